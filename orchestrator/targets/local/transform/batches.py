"""How a batch transform cuts an object into requests and joins the answers, as SageMaker does.

SplitType None sends a whole object per request; Line splits it at newlines into records.
BatchStrategy SingleRecord sends one record per request; MultiRecord as many records as fit
in MaxPayloadInMB (0: no limit, chunked). A record larger than the limit fails the job.
AssembleWith None concatenates the answers as they are; Line ends each with a newline.
(API reference: CreateTransformJob, TransformInput, TransformOutput.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

MB = 1024 * 1024


class PayloadTooLarge(Exception):
    """A record does not fit in max_payload_mb; SageMaker fails the job for it."""


def records(data: bytes, split_type: str) -> list[bytes]:
    """The records of one object: the object itself, or its non-empty lines (each with its newline)."""
    if split_type == "None":
        return [data]
    return [line for line in data.splitlines(keepends=True) if line.strip(b"\r\n")]


def mini_batches(items: list[bytes], strategy: str, max_payload_mb: int) -> Iterator[bytes]:
    """Request bodies, in order: one record each, or records packed up to the payload limit."""
    limit = max_payload_mb * MB if max_payload_mb else None
    for index, record in enumerate(items):
        if limit is not None and len(record) > limit:
            raise PayloadTooLarge(
                f"record {index + 1} is {len(record)} bytes, more than max_payload_mb ({max_payload_mb} MB)"
            )
    if strategy == "SingleRecord":
        yield from items
        return
    batch: list[bytes] = []
    size = 0
    for record in items:
        if batch and limit is not None and size + len(record) > limit:
            yield b"".join(batch)
            batch, size = [], 0
        batch.append(record)
        size += len(record)
    if batch:
        yield b"".join(batch)


def assemble(answers: Iterable[bytes], assemble_with: str) -> Iterator[bytes]:
    """The output object's bytes, answer by answer."""
    for answer in answers:
        yield answer
        if assemble_with == "Line" and not answer.endswith(b"\n"):
            yield b"\n"
