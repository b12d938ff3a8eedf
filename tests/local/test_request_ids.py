"""Request ids look like AWS's and never repeat, within a process or across forked ones."""

from __future__ import annotations

import multiprocessing
import uuid

from orchestrator.targets.local.serving.request_ids import request_id


def test_ids_are_version_4_uuids_and_unique():
    ids = [request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:100]:
        parsed = uuid.UUID(text)
        assert (str(parsed), parsed.version, parsed.variant) == (text, 4, uuid.RFC_4122)


def _child_id(queue) -> None:
    queue.put(request_id())


def test_a_forked_process_draws_its_own_ids():
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_id, args=(queue,))
    child.start()
    theirs = queue.get(timeout=30)
    child.join(30)
    ours = request_id()
    assert theirs[:24] != ours[:24]  # a different random part, not the same counter's next value
