"""A spec with a hundred thousand wrong values is answered in seconds, with the first hundred explained."""

from __future__ import annotations

import time

from orchestrator.cli import main
from orchestrator.validate import MAX_EXPLAINED


def test_a_huge_list_of_wrong_items_is_cut_short(project, capsys):
    spec = project / "pipeline.yaml"
    origins = ", ".join(["1"] * 100_000)
    spec.write_text(
        spec.read_text().replace("    type: api\n", f"    type: api\n    cors: {{allow_origins: [{origins}]}}\n")
    )
    started = time.monotonic()
    assert main(["validate", str(spec)]) == 2
    assert time.monotonic() - started < 20  # the JSON Schema explanation of every item took minutes
    lines = capsys.readouterr().err.splitlines()
    assert (
        lines[0] == f"{spec}:1:1: error: (document): {100_000 - MAX_EXPLAINED} more problems like these are not shown"
    )
    assert lines[1] == f"{spec}:17:28: error: steps.api.cors.allow_origins[0]: Input should be a valid string"
    assert len(lines) == MAX_EXPLAINED + 2
