"""kill -9 of `run` in the middle of a local job, N times per job kind, and what it left.

Each trial is a fresh project whose job writes half its result, waits, then writes the
other half with its pid (tests/local_processing/kill_nine.py). The CLI is killed with
SIGKILL at a random moment while the job runs; the trial then counts an orphan if the
job is still running 10 s later, releases the job, resumes with `run`, and counts a
mixed result if the published model (or output) holds the pids of two processes.

    python benchmarks/kill_nine.py [--trials 20] [--kinds training processing] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.local_processing.kill_nine import Trial, is_running, kill_nine, stop_daemon  # noqa: E402

ORPHAN_AFTER_S = 10.0


def one_trial(root: Path, kind: str, delay_s: float) -> dict:
    trial = Trial(root, kind)
    trial.write()
    try:
        run = trial.start_run()
        job = trial.wait_for_job(set())
        time.sleep(delay_s)
        killed_at = time.monotonic()
        kill_nine(run)
        while is_running(job) and time.monotonic() - killed_at < ORPHAN_AFTER_S:
            time.sleep(0.01)
        orphan = is_running(job)
        gone_after = time.monotonic() - killed_at
        trial.release()
        done = trial.cli("run")
        pids = trial.result_pids() if done.returncode == 0 else []
        return {
            "orphan": orphan,
            "gone_after_s": gone_after,
            "resumed": done.returncode == 0,
            "mixed": len(set(pids)) > 1,
            "by_killed_job": str(job) in pids,
            "error": "" if done.returncode == 0 else done.stderr.strip().splitlines()[-6:],
        }
    finally:
        stop_daemon(trial)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--kinds", nargs="+", default=["training", "processing"])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    for kind in args.kinds:
        results = []
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.trials):
                results.append(one_trial(Path(tmp) / f"t{i}", kind, rng.uniform(0.0, 0.5)))
        gone = [r["gone_after_s"] for r in results if not r["orphan"]]
        print(f"{kind}: {args.trials} trials of kill -9 during the job")
        print(f"  orphans (job running {ORPHAN_AFTER_S:g} s after the kill): {sum(r['orphan'] for r in results)}")
        if gone:
            print(
                f"  job gone after the kill: median {statistics.median(gone) * 1000:.0f} ms, max {max(gone) * 1000:.0f} ms"
            )
        print(f"  resumed runs that succeeded: {sum(r['resumed'] for r in results)}")
        for r in results:
            if r["error"]:
                print("    failed resume: " + "\n    ".join(r["error"]))
        print(f"  results built by two processes: {sum(r['mixed'] for r in results)}")
        print(f"  results holding the killed job's writes: {sum(r['by_killed_job'] for r in results)}")


if __name__ == "__main__":
    main()
