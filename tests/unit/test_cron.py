"""EventBridge cron/rate expressions: validation messages and next fire times."""

from __future__ import annotations

from datetime import datetime

import pytest

from orchestrator.spec.cron import CronError, parse


@pytest.mark.parametrize(
    "expr, after, expected",
    [
        ("cron(0 3 * * ? *)", "2026-11-22 15:00", "2026-11-23 03:00"),
        ("cron(0/15 * * * ? *)", "2026-11-22 15:07", "2026-11-22 15:15"),
        ("cron(30 9 ? * MON-FRI *)", "2026-11-21 10:00", "2026-11-23 09:30"),  # Saturday -> Monday
        ("cron(0 0 L * ? *)", "2026-02-03 00:00", "2026-02-28 00:00"),
        ("cron(0 12 ? * 6#3 *)", "2026-11-01 00:00", "2026-11-20 12:00"),  # third Friday
        ("cron(0 8 ? * 2L *)", "2026-11-01 00:00", "2026-11-30 08:00"),  # last Monday
        ("cron(0 9 15W * ? *)", "2026-11-01 00:00", "2026-11-16 09:00"),  # 15th is a Sunday
        ("cron(0 0 1 JAN ? 2027)", "2026-11-22 00:00", "2027-01-01 00:00"),
        ("rate(5 minutes)", "2026-11-22 15:00", "2026-11-22 15:05"),
        ("rate(1 day)", "2026-11-22 15:00", "2026-11-23 15:00"),
    ],
)
def test_next_fire_time(expr, after, expected):
    fmt = "%Y-%m-%d %H:%M"
    assert parse(expr).next_after(datetime.strptime(after, fmt)) == datetime.strptime(expected, fmt)


@pytest.mark.parametrize(
    "expr, message",
    [
        ("0 3 * * *", "expected cron(...) or rate(...)"),
        ("cron(0 3 * * *)", "cron needs 6 fields (minutes hours day-of-month month day-of-week year), found 5"),
        ("cron(0 3 * * * *)", "exactly one of day-of-month and day-of-week must be '?'"),
        ("cron(61 3 * * ? *)", "minutes: 61 is out of range 0-59"),
        (
            "cron(0 3 * FOO ? *)",
            "month: 'FOO' is not a number or a name (JAN, FEB, MAR, APR, MAY, JUN, JUL, AUG, SEP, OCT, NOV, DEC)",
        ),
        ("cron(0 3 ? * 2#6 *)", "day-of-week: '#N' needs N from 1 to 5"),
        ("cron(0 20-10 * * ? *)", "hours: range 20-10 runs backwards"),
        ("cron(0/0 3 * * ? *)", "minutes: step '/0' must be a positive number"),
        ("rate(1 days)", "write 'rate(1 day)': AWS wants the singular only for 1"),
        ("rate(5 minute)", "write 'rate(5 minutes)': AWS wants the singular only for 1"),
        ("rate(soon)", "a rate is 'rate(N minutes|hours|days)'"),
        ("cron(0 0 1 1 ? 1999)", None),
    ],
)
def test_invalid_expressions(expr, message):
    if message is None:  # valid, but in the past
        with pytest.raises(CronError, match="never fires again"):
            parse(expr).next_after(datetime(2026, 1, 1))
        return
    with pytest.raises(CronError) as info:
        parse(expr)
    assert str(info.value) == message
