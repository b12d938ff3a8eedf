"""Two independent local training steps of 4 s each, one by one and at the same time.

Runs a throwaway pipeline of two training steps whose scripts each take `--seconds`
(default 4) on the real local target, with `--parallelism 1` and with the default,
forcing both steps each time, and prints the wall times and the speed-up.

    python benchmarks/concurrent_steps.py [--seconds 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SPEC = """\
version: 1
name: concurrency
steps:
  first:
    type: training
    framework: sklearn
    entry_point: train.py
    hyperparameters: {seconds: SECONDS}
  second:
    type: training
    framework: sklearn
    entry_point: train.py
    hyperparameters: {seconds: SECONDS}
"""

SCRIPT = """\
import argparse, os, time
parser = argparse.ArgumentParser()
parser.add_argument("--seconds", type=float)
args = parser.parse_args()
time.sleep(args.seconds)
open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("done")
"""


def run(project: Path, *argv: str) -> float:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", "pipeline.yaml", "--quiet", *argv],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode != 0:
        sys.exit(f"run {' '.join(argv)} failed:\n{proc.stderr}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "pipeline.yaml").write_text(SPEC.replace("SECONDS", str(args.seconds)))
        (project / "train.py").write_text(textwrap.dedent(SCRIPT))
        run(project)  # first run: the job folders and state exist; later runs are forced
        forced = ("--force", "first", "--force", "second")
        one = [run(project, "--parallelism", "1", *forced) for _ in range(args.repeat)]
        many = [run(project, *forced) for _ in range(args.repeat)]
    a, b = statistics.median(one), statistics.median(many)
    print(f"two training steps of {args.seconds:g} s each, median of {args.repeat} runs (whole CLI run):")
    print(f"  --parallelism 1   {a:6.2f} s")
    print(f"  --parallelism 4   {b:6.2f} s")
    print(f"  speed-up          {a / b:6.2f}x  (ideal 2.00x; the sum of the steps is {2 * args.seconds:g} s)")


if __name__ == "__main__":
    main()
