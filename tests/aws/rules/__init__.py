"""The rules real AWS enforces, as one table the aws and Pulumi tests hold every request against.

Two kinds, both with their source: the limits botocore's service models state
(`model_limits`: lengths, ranges, patterns, enums of every request member) and
the rules AWS documents that no model encodes (`documented`). `refusals` says
what AWS would refuse of one request, in sentences; an empty list means accepted.
"""

from __future__ import annotations

from .documented import RULES, Request, World
from .model_limits import constraints, violations

__all__ = ["RULES", "Request", "World", "refusals", "table_size"]


class NoWorld:
    """For requests checked on their own: nothing is known to exist."""

    def endpoint(self, name):
        return None

    def endpoint_config(self, name):
        return None

    def object_bytes(self, bucket, key):
        return None

    def bucket_region(self, bucket):
        return None

    def blocks_public_policy(self, bucket):
        return None


def refusals(request: Request, world: World | None = None) -> list[str]:
    """Every reason AWS would refuse this request (model limits first, then documented rules)."""
    world = world or NoWorld()
    found = violations(request.service, request.operation, request.params)
    for rule in RULES:
        if not rule.operations or (request.service, request.operation) in rule.operations:
            found += [f"{message} [{rule.name}]" for message in rule.check(request, world)]
    return found


def table_size(operations: list[tuple[str, str]]) -> dict[str, int]:
    """How many rules hold these operations' requests: documented ones and model constraints."""
    return {
        "documented": len(RULES),
        "model_constraints": sum(len(constraints(service, operation)) for service, operation in operations),
        "operations": len(operations),
    }
