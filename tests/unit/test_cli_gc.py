"""The CLI pauses the cyclic GC while a command's modules load; only its own process freezes them."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_in_process_main_gives_the_gc_back_as_it_was(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    assert main(["validate", "pipeline.yaml"]) == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
    gc.disable()
    try:
        assert main(["validate", "pipeline.yaml"]) == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_process_command_line_freezes_what_the_command_imported():
    probe = (
        "import gc, sys\n"
        "from orchestrator.cli import main\n"
        "sys.argv = ['orchestrator', 'validate', 'pipeline.yaml']\n"
        "code = main()\n"
        "print(code, gc.isenabled(), gc.get_freeze_count() > 10000)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert proc.stdout.splitlines()[-1] == "0 True True"
