"""API keys, throttling and quotas as API Gateway applies them to a stage.

A method whose document operation has a security requirement needs the usage plan's key in
`x-api-key` (403 Forbidden otherwise). Requests then pass the stage's token bucket and, with
a key, the usage plan's bucket and quota (429 past either).
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-api-usage-plans.html
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..daemon.protocol import ApiKeyRequest, Throttle

PERIODS_S = {"DAY": 86_400, "WEEK": 7 * 86_400, "MONTH": 30 * 86_400}


class TokenBucket:
    """`burst` tokens, refilled at `rate` per second; each request takes one."""

    def __init__(self, throttle: Throttle, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst = throttle.rate_limit, float(throttle.burst_limit)
        self.clock = clock
        self.tokens = self.burst
        self.stamp = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Quota:
    def __init__(self, limit: int, period: str, clock: Callable[[], float] = time.time):
        self.limit, self.period_s, self.clock = limit, PERIODS_S[period], clock
        self.window, self.used = -1, 0

    def take(self) -> bool:
        window = int(self.clock() // self.period_s)
        if window != self.window:
            self.window, self.used = window, 0
        if self.used >= self.limit:
            return False
        self.used += 1
        return True


class Limits:
    """What one stage admits; `admit` names the gateway error to answer, or None."""

    def __init__(self, stage: Throttle, key: ApiKeyRequest | None, clock: Callable[[], float] = time.monotonic):
        self.stage = TokenBucket(stage, clock)
        self.key = key
        self.plan = TokenBucket(key.throttle, clock) if key else None
        self.quota = Quota(key.quota_limit, key.quota_period) if key and key.quota_limit else None

    def admit(self, key_required: bool, sent_key: str | None) -> str | None:
        if key_required and (self.key is None or sent_key != self.key.value):
            return "forbidden"
        if not self.stage.take():
            return "throttled"
        if key_required and self.plan is not None:
            if not self.plan.take():
                return "throttled"
            if self.quota is not None and not self.quota.take():
                return "quota"
        return None
