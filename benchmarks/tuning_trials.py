"""A local tuning job of 4 trials of 2 s each, one trial at a time and max_parallel_jobs at once.

Runs a throwaway pipeline with one tuning step (Grid over 4 values) whose training
script takes `--seconds`, on the real local target, with max_parallel_jobs 1 and then
`--parallel` (default 2; the local target runs at most one trial per core), forcing
the step each time, and prints the wall times and the speed-up.

    python benchmarks/tuning_trials.py [--seconds 2] [--parallel 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SPEC = """\
version: 1
name: tuning-bench
steps:
  tune:
    type: tuning
    training:
      framework: sklearn
      entry_point: train.py
      hyperparameters: {seconds: SECONDS}
      metrics: [{name: score, regex: 'score=([0-9.]+)'}]
    objective: {metric: score}
    ranges: {value: {values: [1, 2, 3, 4]}}
    strategy: Grid
    max_parallel_jobs: PARALLEL
"""

SCRIPT = """\
import argparse, os, time
parser = argparse.ArgumentParser()
parser.add_argument("--seconds", type=float)
parser.add_argument("--value", type=float)
args = parser.parse_args()
time.sleep(args.seconds)
open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("done")
print(f"score={args.value}")
"""


def run(project: Path, parallel: int, seconds: float) -> float:
    (project / "pipeline.yaml").write_text(SPEC.replace("SECONDS", str(seconds)).replace("PARALLEL", str(parallel)))
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", "pipeline.yaml", "--quiet", "--force", "tune"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode != 0:
        sys.exit(f"run with max_parallel_jobs {parallel} failed:\n{proc.stderr}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "train.py").write_text(SCRIPT)
        run(project, 1, args.seconds)  # first run: the state and the local cloud exist
        one = [run(project, 1, args.seconds) for _ in range(args.repeat)]
        many = [run(project, args.parallel, args.seconds) for _ in range(args.repeat)]
    a, b = statistics.median(one), statistics.median(many)
    cores = os.cpu_count() or 1
    print(f"4 tuning trials of {args.seconds:g} s each, median of {args.repeat} runs (whole CLI run, {cores} cores):")
    print(f"  max_parallel_jobs 1   {a:6.2f} s")
    print(f"  max_parallel_jobs {args.parallel}   {b:6.2f} s")
    print(f"  speed-up              {a / b:6.2f}x  (ideal {min(args.parallel, cores, 4):.2f}x)")


if __name__ == "__main__":
    main()
