"""Cold-process wall time of `validate` and `plan`, against a 0.2 s target, with where the time goes.

Measured in one run on this machine: the process floor (`--version`), `validate` and `plan`
on the example pipeline in the repository root, `plan` in a copy of the example before and
after a local `run` (so it reads state and probes live services; the copy is destroyed
afterwards), and a 500-step spec. Each row is the median of N fresh processes, with the
spread and the ratio to the target; the rows take turns, so a change in the machine's load
reaches them all alike. Then an import-time breakdown (`python -X importtime`)
of `validate`. Figures, not a test: it never fails on a slow result.

Children run the orchestrator beside this script (PYTHONPATH), with a private bytecode cache
warmed by one untimed run, as an installed package has its .pyc files; `--as-is` leaves the
bytecode settings of this shell alone (with PYTHONDONTWRITEBYTECODE set and no cache, every
run compiles every module it imports).

    python benchmarks/validate_speed.py [--repeat 21] [--no-run] [--as-is]
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
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.2
# What a copy of the example project leaves out: the package itself (so the installed one
# runs), tooling, and any state.
NOT_THE_EXAMPLE = (".git", ".venv", ".orchestrator", "orchestrator", "tests", "examples", "benchmarks", "pulumi", ".ci")
PYDANTIC = ("pydantic", "pydantic_core", "typing_extensions", "annotated_types", "typing_inspection")


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


class Runner:
    """Runs `python -m orchestrator ...` in fresh processes, in a chosen folder and environment."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def once(self, argv: list[str], cwd: Path, flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, *flags, "-m", "orchestrator", *argv], cwd=cwd, env=self.env, capture_output=True, text=True
        )
        if proc.returncode not in (0, 3):
            sys.exit(f"python -m orchestrator {' '.join(argv)} failed in {cwd}:\n{proc.stderr}")
        return proc

    def round_robin(self, rows: list[tuple[str, list[str], Path]], repeat: int) -> dict[str, list[float]]:
        """`repeat` timed runs of every row, taken in turns: on a shared machine the load
        changes by the minute, and turns spread it over every row alike."""
        for _, argv, cwd in rows:
            self.once(argv, cwd)  # untimed: fills the bytecode cache, and the OS's file cache
        times: dict[str, list[float]] = {label: [] for label, _, _ in rows}
        for _ in range(repeat):
            for label, argv, cwd in rows:
                start = time.perf_counter()
                self.once(argv, cwd)
                times[label].append(time.perf_counter() - start)
        return times


def report(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    q1, q3 = ordered[len(ordered) // 4], ordered[(3 * len(ordered)) // 4]
    median = statistics.median(ordered)
    print(
        f"  {label:<34} {median * 1000:7.1f} ms  (q1-q3 {q1 * 1000:5.1f}-{q3 * 1000:5.1f}, "
        f"min {ordered[0] * 1000:5.1f}, max {ordered[-1] * 1000:6.1f}, n={len(ordered)})  "
        f"{median / TARGET_S:4.2f}x target"
    )


def copy_of_example(into: Path) -> Path:
    shutil.copytree(ROOT, into, ignore=shutil.ignore_patterns(*NOT_THE_EXAMPLE, "__pycache__", "*.egg-info"))
    return into


def timings(runner: Runner, repeat: int, with_run: bool) -> None:
    state = "reads the root's state" if (ROOT / ".orchestrator").exists() else "no state"
    with tempfile.TemporaryDirectory() as tmp:
        fresh = copy_of_example(Path(tmp) / "fresh")
        big = str(generated_spec(Path(tmp), 500))
        rows = [
            ("--version (the process floor)", ["--version"], ROOT),
            ("validate pipeline.yaml", ["validate", "pipeline.yaml"], ROOT),
            (f"plan pipeline.yaml ({state})", ["plan", "pipeline.yaml"], ROOT),
            ("plan, copy of the example, no state", ["plan", "pipeline.yaml"], fresh),
            ("validate 500-step spec", ["validate", big], ROOT),
            ("plan 500-step spec", ["plan", big], ROOT),
        ]
        ran = copy_of_example(Path(tmp) / "ran") if with_run else None
        try:
            if ran is not None:  # its services stay up while the rows are timed, as after a real run
                runner.once(["run", "pipeline.yaml", "--quiet"], ran)
                rows.insert(4, ("plan after a local run", ["plan", "pipeline.yaml"], ran))
            results = runner.round_robin(rows, repeat)
        finally:
            if ran is not None:
                runner.once(["destroy", "pipeline.yaml", "--yes"], ran)
    print(f"Cold runs (median of {repeat}, every row in turn; target {TARGET_S} s):")
    for label, times in results.items():
        report(label, times)


def group_of(module: str) -> str:
    top = module.split(".")[0]
    if top in PYDANTIC:
        return "pydantic"
    if top in ("yaml", "_yaml"):
        return "yaml"
    if top == "orchestrator":
        return "orchestrator"
    if top in sys.stdlib_module_names or top.startswith("_"):
        return "stdlib"
    return "other"


def parse_importtime(stderr: str) -> list[tuple[str, int, int, str]]:
    """(module, own us, cumulative us, the group that pulled it in) per import, from -X importtime.

    A stdlib module is charged to the nearest importer outside the stdlib (what it was
    imported for); one imported while Python starts stays stdlib.
    """
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            own, cumulative, name = line[len("import time:") :].split("|")
            depth = (len(name) - len(name.lstrip())) // 2
            rows.append((name.strip(), int(own), int(cumulative), depth))
    # importtime prints children before their parent: walk backwards, parents first.
    charged: list[tuple[str, int, int, str]] = []
    chain: list[str] = []  # the group charged at each depth above the current line
    for name, own, cumulative, depth in reversed(rows):
        del chain[depth:]
        group = group_of(name)
        if group == "stdlib" and chain:
            group = chain[-1]
        chain.append(group)
        charged.append((name, own, cumulative, group))
    return charged


def import_breakdown(runner: Runner, repeat: int, top: int) -> None:
    """Per module, the median over `repeat` runs of its own and its cumulative import time."""
    own: dict[str, list[int]] = defaultdict(list)
    cumulative: dict[str, list[int]] = defaultdict(list)
    charged_to: dict[str, str] = {}
    for _ in range(repeat):
        stderr = runner.once(["validate", "pipeline.yaml"], ROOT, flags=("-X", "importtime")).stderr
        for name, own_us, cumulative_us, group in parse_importtime(stderr):
            own[name].append(own_us)
            cumulative[name].append(cumulative_us)
            charged_to[name] = group
    mine, pulled = defaultdict(float), defaultdict(float)
    for name, values in own.items():
        mine[group_of(name)] += statistics.median(values) / 1000
        pulled[charged_to[name]] += statistics.median(values) / 1000

    def line(groups: dict[str, float]) -> str:
        return ", ".join(f"{g} {ms:.1f}" for g, ms in sorted(groups.items(), key=lambda x: -x[1]))

    print(
        f"\nImports of `validate pipeline.yaml` (python -X importtime, median of {repeat}; it adds its own overhead):"
    )
    print(f"  all imports {sum(mine.values()):6.1f} ms")
    print(f"  by package:            {line(mine)}")
    print(f"  with the stdlib each pulls in: {line(pulled)}")
    for title, table in (("cumulative", cumulative), ("own", own)):
        medians = {name: statistics.median(values) / 1000 for name, values in table.items()}
        print(f"  top {top} modules by {title} time (ms, cumulative / own):")
        for name, _ in sorted(medians.items(), key=lambda x: -x[1])[:top]:
            cum, self_ms = statistics.median(cumulative[name]) / 1000, statistics.median(own[name]) / 1000
            group = group_of(name) if group_of(name) == charged_to[name] else f"stdlib, for {charged_to[name]}"
            print(f"    {cum:6.1f} / {self_ms:5.1f}  {name:<46} [{group}]")
    print("  (the own time of orchestrator.spec.models is pydantic building the spec's model classes)")


def child_env(as_is: bool, cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    if not as_is:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    # The orchestrator beside this script, wherever a command runs (the example's copy too).
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9, help="cold runs per row (default 9)")
    parser.add_argument("--imports", type=int, default=3, help="importtime runs to take the median of (default 3)")
    parser.add_argument("--top", type=int, default=15, help="modules to list by cumulative import time")
    parser.add_argument("--no-run", action="store_true", help="skip `plan` after a local run (saves ~10 s)")
    parser.add_argument(
        "--as-is", action="store_true", help="children keep this shell's bytecode settings (no private .pyc cache)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = child_env(args.as_is, Path(cache))
        bytecode = "inherited environment" if args.as_is else "private bytecode cache, warmed"
        print(f"{sys.executable} {sys.version.split()[0]} on {os.cpu_count()} cores; {bytecode}")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        runner = Runner(env)
        timings(runner, args.repeat, not args.no_run)
        import_breakdown(runner, args.imports, args.top)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
