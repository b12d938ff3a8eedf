"""Target tracking for a local endpoint: its worker count follows its request rate.

As Application Auto Scaling does with SageMakerVariantInvocationsPerInstance, the
autoscaler keeps invocations per worker per minute near the step's target: the wanted
count is the rate over the last WINDOW_S seconds (as a per-minute rate) divided by the
target, rounded up, between `min` and `max`, and never more than this machine's cores.
A scale-out waits `scale_out_cooldown_s` after the last change, a scale-in
`scale_in_cooldown_s`. The counts come from what the workers wrote (stats.py).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable

from ..daemon.protocol import ScalingRequest

log = logging.getLogger("orchestrator.local.endpoint")
WINDOW_S = 5.0  # SageMaker's metric is per minute; a shorter window keeps the local one responsive
TICK_S = 0.5


def bounds(policy: ScalingRequest, cores: int | None = None) -> tuple[int, int]:
    """The fewest and most workers this machine gives the endpoint."""
    most = min(policy.max, cores or os.cpu_count() or 1)
    return min(policy.min, most), most


def wanted(policy: ScalingRequest, per_minute: float, cores: int | None = None) -> int:
    low, high = bounds(policy, cores)
    return max(low, min(high, math.ceil(per_minute / policy.target_invocations_per_instance)))


class Autoscaler:
    def __init__(
        self,
        name: str,
        policy: ScalingRequest,
        requests: Callable[[], int],
        workers: Callable[[], int],
        scale: Callable[[int], Awaitable[None]],
    ):
        self.name, self.policy = name, policy
        self.requests, self.workers, self.scale = requests, workers, scale
        self.samples: deque[tuple[float, int]] = deque()
        self.changed_at = time.monotonic()
        self.task = asyncio.get_running_loop().create_task(self._run())

    def rate_per_minute(self, now: float) -> float:
        self.samples.append((now, self.requests()))
        while len(self.samples) > 1 and now - self.samples[0][0] > WINDOW_S:
            self.samples.popleft()
        (first_t, first_n), (last_t, last_n) = self.samples[0], self.samples[-1]
        return (last_n - first_n) / max(last_t - first_t, TICK_S) * 60 if last_t > first_t else 0.0

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            try:
                rate = self.rate_per_minute(now)
            except OSError:
                continue
            current, target = self.workers(), wanted(self.policy, rate)
            cooldown = self.policy.scale_out_cooldown_s if target > current else self.policy.scale_in_cooldown_s
            if target != current and now - self.changed_at >= cooldown:
                log.info("endpoint %s: %.0f invocations a minute: %d -> %d workers", self.name, rate, current, target)
                self.changed_at = now
                await self.scale(target)

    def stop(self) -> None:
        self.task.cancel()
