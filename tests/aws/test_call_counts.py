"""Per-step call counts stay per step when steps run at the same time through one client."""

from __future__ import annotations

import threading
from typing import Any

from orchestrator.targets.aws.client import AwsClient


class Answering(AwsClient):
    """Answers every call at once; a barrier makes two threads' calls interleave."""

    def __init__(self, barrier: threading.Barrier):
        super().__init__("us-east-1")
        self.barrier = barrier

    def _invoke(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        self.barrier.wait(timeout=10)
        return {}


def test_each_thread_counts_only_its_own_calls():
    client = Answering(threading.Barrier(2))
    seen: dict[str, dict[str, int]] = {}

    def step(name: str, operations: list[str]) -> None:
        with client.counting() as calls:
            for operation in operations:
                client.call("sagemaker", operation)
        seen[name] = dict(calls)

    # the same number of calls each, so the barrier pairs them up: every call overlaps one of the other step
    train = threading.Thread(target=step, args=("train", ["DescribeTrainingJob"] * 3 + ["CreateTrainingJob"]))
    deploy = threading.Thread(target=step, args=("deploy", ["CreateModel", "CreateEndpointConfig"] * 2))
    train.start(), deploy.start()
    train.join(), deploy.join()

    assert seen == {"train": {"read": 3, "write": 1}, "deploy": {"write": 4}}
    assert client.counts() == {"read": 3, "write": 5, "total": 8}  # the run's totals still see both
