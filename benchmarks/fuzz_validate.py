"""10,000 hostile specs through `validate` (and `plan` on each one it passes): crashes, hangs, memory.

A crash is an exit other than 0 or 2, a traceback or an internal error, or a refusal whose
problems are not all located as FILE:LINE:COL; `plan` refusing or failing on a spec `validate`
passed is one too. A hang is a spec that takes longer than --timeout. The specs are those of
tests/unit/spec_fuzz.py (seeded: spec N of seed S is the same everywhere).

Specs run in worker processes that call the CLI's `main` in-process (no interpreter start per
spec), each under an address-space cap (--memory-mb); the parent kills a worker whose spec
overruns its time and starts another. Then a sample runs through the real CLI
(`python -m orchestrator validate`) with the same rules. Figures, not a test: it exits 1 if
anything crashed or hung, and prints each such spec with the command that rebuilds it.

    python benchmarks/fuzz_validate.py [--count 10000] [--seed 14] [--workers 2] [--cli-sample 200]
    python benchmarks/fuzz_validate.py --seed 14 --only N     # rebuild spec N to look at it
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.unit.spec_fuzz import check, copy_seeds, fuzzed, judge  # noqa: E402

# Children never reach AWS: dummy credentials and an endpoint where nothing listens.
QUIET_AWS = {
    "AWS_ACCESS_KEY_ID": "fuzz",
    "AWS_SECRET_ACCESS_KEY": "fuzz",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
}


def worker(seed: int, workdir: str) -> None:
    """Read spec numbers on stdin; answer one JSON line per spec on stdout."""
    seeds = copy_seeds(Path(workdir))
    answer = sys.stdout
    sys.stdout = sys.stderr  # nothing the orchestrator prints may break the protocol
    for line in sys.stdin:
        index = int(line)
        spec = fuzzed(seeds, seed, index)
        started = time.monotonic()
        outcomes = check(spec)
        result = {
            "index": index,
            "label": spec.label,
            "seconds": time.monotonic() - started,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "outcomes": [
                {"command": o.command, "code": o.code, "problem": o.problem, "err": o.err[-2000:]} for o in outcomes
            ],
        }
        answer.write(json.dumps(result) + "\n")
        answer.flush()


class Worker:
    """A process that checks specs in-process, one at a time, under a memory cap."""

    def __init__(self, args: argparse.Namespace, scratch: Path):
        cap = args.memory_mb * 1024 * 1024
        workdir = tempfile.mkdtemp(dir=scratch)
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", "--seed", str(args.seed), "--workdir", workdir],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **QUIET_AWS, "PYTHONPATH": str(ROOT)},
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)),
        )
        self.fresh = True  # its first spec also pays for the imports
        self.index: int | None = None
        self.deadline = 0.0

    def give(self, index: int, timeout: float) -> None:
        self.index, self.deadline = index, time.monotonic() + timeout + (60 if self.fresh else 0)
        self.fresh = False
        self.proc.stdin.write(f"{index}\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def run_workers(args: argparse.Namespace, scratch: Path) -> tuple[list[dict], list[int]]:
    pending = list(range(args.count))
    results: list[dict] = []
    hangs: list[int] = []
    workers = [Worker(args, scratch) for _ in range(args.workers)]

    def next_spec(slot: int) -> None:
        if pending:
            workers[slot].give(pending.pop(0), args.timeout)
        else:
            workers[slot].index = None

    for slot in range(len(workers)):
        next_spec(slot)
    while any(w.index is not None for w in workers):
        busy = {w.proc.stdout.fileno(): slot for slot, w in enumerate(workers) if w.index is not None}
        ready, _, _ = select.select(list(busy), [], [], 0.5)
        for fd in ready:
            slot = busy[fd]
            w = workers[slot]
            line = w.proc.stdout.readline()
            if line:
                results.append(json.loads(line))
            else:  # the worker died (the memory cap, a signal): the spec killed it
                results.append(_died(w.index, w.proc.wait()))
                workers[slot] = Worker(args, scratch)
            next_spec(slot)
            if len(results) % 1000 == 0:
                print(f"  {len(results) + len(hangs)} of {args.count} specs", file=sys.stderr)
        now = time.monotonic()
        for slot, w in enumerate(workers):
            if w.index is not None and now > w.deadline:
                hangs.append(w.index)
                w.stop()
                workers[slot] = Worker(args, scratch)
                next_spec(slot)
    for w in workers:
        w.stop()
    return results, hangs


def _died(index: int, code: int) -> dict:
    return {
        "index": index,
        "label": f"#{index}",
        "seconds": 0.0,
        "rss_mb": 0.0,
        "outcomes": [{"command": "validate", "code": code, "problem": f"worker died ({code})", "err": ""}],
    }


def cli_sample(args: argparse.Namespace, scratch: Path) -> tuple[int, list[str]]:
    """A sample of the specs through `python -m orchestrator validate`, as a user runs it."""
    seeds = copy_seeds(Path(tempfile.mkdtemp(dir=scratch)))
    picks = random.Random(args.seed).sample(range(args.count), min(args.cli_sample, args.count))
    crashes = []
    for index in picks:
        spec = fuzzed(seeds, args.seed, index)
        path = spec.seed.spec.with_name(f"fuzz-{index}.yaml")
        path.write_bytes(spec.data)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "orchestrator", "validate", str(path)],
                capture_output=True,
                text=True,
                timeout=args.timeout + 10,
                env={**os.environ, **QUIET_AWS, "PYTHONPATH": str(ROOT)},
                cwd=path.parent,
            )
            outcome = judge("validate", str(path), proc.returncode, proc.stdout, proc.stderr)
            if outcome.problem:
                crashes.append(f"{spec.label}: {outcome.problem}")
        except subprocess.TimeoutExpired:
            crashes.append(f"{spec.label}: hung")
        finally:
            path.unlink(missing_ok=True)
    return len(picks), crashes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds one spec may take")
    parser.add_argument("--memory-mb", type=int, default=2048, help="address-space cap of each worker")
    parser.add_argument("--cli-sample", type=int, default=200, help="specs also run through the real CLI")
    parser.add_argument("--only", type=int, metavar="N", help="write spec N beside a copy of its seed and say where")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.seed, args.workdir)
        return 0
    if args.only is not None:
        spec = fuzzed(copy_seeds(Path(tempfile.mkdtemp(prefix="fuzz-spec-"))), args.seed, args.only)
        path = spec.seed.spec.with_name(f"fuzz-{args.only}.yaml")
        path.write_bytes(spec.data)
        print(f"{spec.label}\n  python -m orchestrator validate {path}")
        return 0

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fuzz-validate-") as scratch:
        results, hangs = run_workers(args, Path(scratch))
        in_process = time.monotonic() - started
        sampled, cli_crashes = cli_sample(args, Path(scratch))
    crashes = [(r, o) for r in results for o in r["outcomes"] if o["problem"]]
    codes = Counter((o["command"], o["code"]) for r in results for o in r["outcomes"])
    slowest = max(results, key=lambda r: r["seconds"])
    heaviest = max(results, key=lambda r: r["rss_mb"])
    print(f"{args.count} fuzzed specs (seed {args.seed}) in {in_process:.0f} s, {args.workers} workers")
    print("  answers: " + ", ".join(f"{cmd} exit {code}: {n}" for (cmd, code), n in sorted(codes.items())))
    print(f"  crashes: {len(crashes)}    hangs (over {args.timeout:g} s): {len(hangs)}")
    print(f"  slowest spec: {slowest['seconds']:.2f} s ({slowest['label']})")
    print(f"  peak worker RSS: {heaviest['rss_mb']:.0f} MB (first reached at {heaviest['label']})")
    print(f"  through the real CLI: {sampled} specs, {len(cli_crashes)} crashes or hangs")
    rebuild = f"python benchmarks/fuzz_validate.py --seed {args.seed} --only N"
    for r, o in crashes[:20]:
        print(f"CRASH {r['label']} [{o['command']} exit {o['code']}: {o['problem']}]\n    {o['err'][:300]!r}")
    for index in hangs[:20]:
        print(f"HANG #{index}")
    for line in cli_crashes[:20]:
        print(f"CLI {line}")
    if crashes or hangs or cli_crashes:
        print(f"rebuild one: {rebuild}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
