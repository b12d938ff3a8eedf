"""Cold-process wall time of `validate` (and `plan`) on the example and on a 500-step spec.

Targets on a 2-core machine: validate pipeline.yaml under 0.4 s, a 500-step spec under 1.5 s.
Prints medians and the ratio to each target; never fails (figures, not a test).

    python benchmarks/validate_speed.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def generated_spec(folder: Path, steps: int) -> Path:
    """A valid spec with `steps` steps: training/endpoint pairs chained by references."""
    (folder / "train.py").write_text("print('accuracy=1')\n")
    (folder / "data.csv").write_text("1,2\n")
    lines = ["version: 1", "name: big", "steps:"]
    for i in range(steps // 2):
        lines += [
            f"  train{i}:",
            "    type: training",
            "    framework: sklearn",
            "    entry_point: train.py",
            "    inputs: {train: data.csv}",
            "    hyperparameters: {C: 1.0}",
            "    metrics: [{name: accuracy, regex: 'accuracy=([0-9.]+)'}]",
            f"  deploy{i}:",
            "    type: endpoint",
            f"    model: ${{steps.train{i}.outputs.model}}",
            "    instance: {type: ml.t2.medium}",
        ]
    spec = folder / "pipeline.yaml"
    spec.write_text("\n".join(lines) + "\n")
    return spec


def timed(argv: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "orchestrator", *argv], cwd=ROOT, capture_output=True)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 3):
            sys.exit(f"{' '.join(argv)} failed: {proc.stderr.decode()}")
    return times


def report(label: str, times: list[float], target: float | None) -> None:
    median = statistics.median(times)
    ratio = f"  ({median / target:.2f}x of the {target} s target)" if target else ""
    print(
        f"{label:<38} median {median * 1000:7.1f} ms  min {min(times) * 1000:7.1f} ms  "
        f"max {max(times) * 1000:7.1f} ms{ratio}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    baseline = timed(["--version"], args.repeat)
    report("python -m orchestrator --version", baseline, None)
    report("validate pipeline.yaml", timed(["validate", "pipeline.yaml"], args.repeat), 0.4)
    report("plan pipeline.yaml", timed(["plan", "pipeline.yaml"], args.repeat), None)
    with tempfile.TemporaryDirectory() as tmp:
        spec = str(generated_spec(Path(tmp), 500))
        report("validate 500-step spec", timed(["validate", spec], args.repeat), 1.5)
        report("plan 500-step spec", timed(["plan", spec], max(3, args.repeat // 3)), None)


if __name__ == "__main__":
    main()
