"""How long a scheduled retrain check takes when nothing changed (target: under 2 s).

Copies the example pipeline to a temp folder, runs it once on the local target,
then times `python -m orchestrator run pipeline.yaml` as the scheduler starts it:
validate, probe the live services, plan, find nothing to do. Destroys at the end.

    python benchmarks/retrain_check.py [--repeat 9]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 2.0


def cli(project: Path, *argv: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", *argv],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{proc.stderr}")
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for name in ("pipeline.yaml", "models", "data", "api", "web"):
            src = ROOT / name
            (shutil.copytree if src.is_dir() else shutil.copy)(src, project / name)
        try:
            start = time.perf_counter()
            cli(project, "run", "pipeline.yaml", "--quiet")
            first = time.perf_counter() - start
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                proc = cli(project, "run", "pipeline.yaml", "--quiet")
                times.append(time.perf_counter() - start)
                assert "Nothing to do" in proc.stderr, proc.stderr
        finally:
            cli(project, "destroy", "pipeline.yaml", "--yes")
    median = statistics.median(times)
    print(f"first run (train, deploy, api, site)   {first:6.2f} s")
    print(
        f"no-op retrain check, median of {len(times):<2}      {median * 1000:6.0f} ms  "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}; {median / TARGET_S:.2f}x of the {TARGET_S:g} s target)"
    )


if __name__ == "__main__":
    main()
