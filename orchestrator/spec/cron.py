"""EventBridge schedule expressions: `cron(min hour dom month dow year)` and `rate(N unit)`.

Parsed here (not by a cron library) because AWS's dialect differs from Unix cron:
six fields, `?` in day-of-month or day-of-week, `L`, `W` and `#`, 1=Sunday.
The same parse validates a spec and drives the local scheduler.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

MONTHS = {
    m: i for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)
}
DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
FIELDS = (
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, MONTHS),
    ("day-of-week", 1, 7, DAYS),
    ("year", 1970, 2199, {}),
)
RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
CRON = re.compile(r"^cron\((.*)\)$")


class CronError(ValueError):
    """Why an expression is invalid, in words a person can act on."""


@dataclass(frozen=True)
class Rate:
    every: timedelta

    def next_after(self, moment: datetime) -> datetime:
        return moment + self.every


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    dom: str  # kept raw: L and W depend on the month
    months: frozenset[int]
    dow: str  # kept raw: L and # depend on the month
    years: frozenset[int]

    def next_after(self, moment: datetime) -> datetime:
        """The first matching minute strictly after `moment` (naive UTC)."""
        start = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.date()
        for _ in range(366 * 8):
            if day.year in self.years and day.month in self.months and self._day_matches(day.year, day.month, day.day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = datetime(day.year, day.month, day.day, hour, minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
            if day.year > max(self.years):
                break
        raise CronError("the expression never fires again")

    def _day_matches(self, year: int, month: int, day: int) -> bool:
        if self.dom != "?":
            return _dom_matches(self.dom, year, month, day)
        return _dow_matches(self.dow, year, month, day)


def parse(expression: str) -> Cron | Rate:
    expression = expression.strip()
    rate = RATE.match(expression)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            raise CronError("a rate must be at least 1")
        if (value == 1) != (not unit.endswith("s")):
            want = unit.rstrip("s") if value == 1 else unit.rstrip("s") + "s"
            raise CronError(f"write 'rate({value} {want})': AWS wants the singular only for 1")
        unit_s = unit.rstrip("s")
        return Rate(timedelta(**{unit_s + "s": value}))
    if expression.startswith("rate("):
        raise CronError("a rate is 'rate(N minutes|hours|days)'")
    match = CRON.match(expression)
    if not match:
        raise CronError("expected cron(...) or rate(...)")
    parts = match.group(1).split()
    if len(parts) != 6:
        raise CronError(f"cron needs 6 fields (minutes hours day-of-month month day-of-week year), found {len(parts)}")
    dom, dow = parts[2], parts[4]
    if (dom == "?") == (dow == "?"):
        raise CronError("exactly one of day-of-month and day-of-week must be '?'")
    sets = {}
    for index in (0, 1, 3, 5):
        name, low, high, names = FIELDS[index]
        sets[name] = _values(parts[index], name, low, high, names)
    if dom != "?":
        _check_dom(dom)
    if dow != "?":
        _check_dow(dow)
    return Cron(sets["minutes"], sets["hours"], dom, sets["month"], dow, sets["year"])


def _number(token: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    token_u = token.upper()
    if token_u in names:
        return names[token_u]
    if not token.isdigit():
        raise CronError(f"{name}: '{token}' is not a number" + (f" or a name ({', '.join(names)})" if names else ""))
    value = int(token)
    if not low <= value <= high:
        raise CronError(f"{name}: {value} is out of range {low}-{high}")
    return value


def _values(field: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    out: set[int] = set()
    for item in field.split(","):
        if not item:
            raise CronError(f"{name}: empty list item")
        base, _, step_s = item.partition("/")
        step = 1
        if step_s:
            if not step_s.isdigit() or int(step_s) < 1:
                raise CronError(f"{name}: step '/{step_s}' must be a positive number")
            step = int(step_s)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = _number(a, name, low, high, names), _number(b, name, low, high, names)
            if first > last:
                raise CronError(f"{name}: range {base} runs backwards")
        else:
            first = _number(base, name, low, high, names)
            last = high if step_s else first
        out.update(range(first, last + 1, step))
    return frozenset(out)


def _check_dom(field: str) -> None:
    if field in ("L", "LW"):
        return
    if field.endswith("W"):
        _number(field[:-1], "day-of-month", 1, 31, {})
        return
    _values(field, "day-of-month", 1, 31, {})


def _check_dow(field: str) -> None:
    if "#" in field:
        day, _, nth = field.partition("#")
        _number(day, "day-of-week", 1, 7, DAYS)
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise CronError("day-of-week: '#N' needs N from 1 to 5")
        return
    if field.endswith("L") and field != "L":
        _number(field[:-1], "day-of-week", 1, 7, DAYS)
        return
    if field == "L":
        return
    _values(field, "day-of-week", 1, 7, DAYS)


def _aws_weekday(year: int, month: int, day: int) -> int:
    return (calendar.weekday(year, month, day) + 1) % 7 + 1  # Monday=0 -> 2, Sunday=6 -> 1


def _dom_matches(field: str, year: int, month: int, day: int) -> bool:
    last = calendar.monthrange(year, month)[1]
    if field == "L":
        return day == last
    if field == "LW":
        target = last
        while calendar.weekday(year, month, target) >= 5:
            target -= 1
        return day == target
    if field.endswith("W"):
        target = min(int(field[:-1]), last)
        wd = calendar.weekday(year, month, target)
        if wd == 5:  # Saturday -> Friday, unless that leaves the month
            target = target - 1 if target > 1 else target + 2
        elif wd == 6:  # Sunday -> Monday, unless that leaves the month
            target = target + 1 if target < last else target - 2
        return day == target
    return day in _values(field, "day-of-month", 1, 31, {})


def _dow_matches(field: str, year: int, month: int, day: int) -> bool:
    weekday = _aws_weekday(year, month, day)
    if "#" in field:
        want, _, nth = field.partition("#")
        return weekday == _number(want, "day-of-week", 1, 7, DAYS) and (day - 1) // 7 + 1 == int(nth)
    if field == "L":
        return weekday == 7
    if field.endswith("L"):
        last = calendar.monthrange(year, month)[1]
        return weekday == _number(field[:-1], "day-of-week", 1, 7, DAYS) and day + 7 > last
    return weekday in _values(field, "day-of-week", 1, 7, DAYS)
