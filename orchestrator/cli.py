"""The command line: parse arguments, run a command, turn every failure into an exit code.

0 success, 1 the run failed, 2 bad input or usage, 3 `plan --exit-code` found changes
(or `run --fail-on-reject` kept the live model).
Tracebacks only with --debug.
"""

from __future__ import annotations

import argparse
import difflib
import gc
import importlib
import sys
from collections.abc import Callable, Sequence

from . import __version__
from .errors import EXIT_FAILED, EXIT_USAGE, OrchestratorError

# Every command, and the function that implements it (imported only when it runs, so
# `--help` and `validate` stay fast).
COMMANDS: dict[str, str] = {
    "validate": "orchestrator.commands.validate:validate",
    "plan": "orchestrator.commands.plan:plan",
    "run": "orchestrator.commands.run:run",
    "status": "orchestrator.commands.reports:status",
    "history": "orchestrator.commands.reports:history",
    "destroy": "orchestrator.commands.destroy:destroy",
    "rollback": "orchestrator.commands.rollback:rollback",
    "schedule": "orchestrator.commands.schedule:schedule",
    "unlock": "orchestrator.commands.unlock:unlock",
    "schema": "orchestrator.commands.validate:schema",
    "export": "orchestrator.commands.export:export",
    "invoke": "orchestrator.commands.invoke:invoke",
    "logs": "orchestrator.commands.logs:logs",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: exit 2 with a hint
        self.print_usage(sys.stderr)
        sys.stderr.write(f"error: {message}\n  hint: {self._hint(message)}\n")
        raise SystemExit(EXIT_USAGE)

    def _hint(self, message: str) -> str:
        words = self.prog.split()
        if len(words) == 1 and "invalid choice" in message:  # an unknown command: suggest the nearest one
            typed = message.split("'")[1] if "'" in message else ""
            near = difflib.get_close_matches(typed, list(COMMANDS), n=1, cutoff=0.5)
            if near:
                return f"did you mean 'python -m orchestrator {near[0]}'?"
        command = f"python -m orchestrator {words[-1]}" if len(words) > 1 else "python -m orchestrator"
        return f"{command} --help"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="orchestrator",
        description="From a SageMaker model to a public REST API and web page, from one pipeline.yaml.",
    )
    parser.add_argument("--version", action="version", version=f"orchestrator {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def cmd(name: str, help: str, file: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        if file:
            p.add_argument("file", metavar="FILE", help="the pipeline spec, e.g. pipeline.yaml")
        return p

    p = cmd("validate", "check a spec; print every problem as FILE:LINE:COL")
    p.add_argument("--json", action="store_true", help="problems as JSON on stdout")

    p = cmd("plan", "show what run would do, changing nothing")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    p.add_argument("--json", action="store_const", dest="format", const="json", help="same as --format json")
    p.add_argument("--target", choices=["local", "aws"], help="override the spec's target")
    p.add_argument("--force", action="append", default=[], metavar="STEP", help="plan STEP as if it changed")
    p.add_argument("--exit-code", action="store_true", help="exit 3 when something would change, 0 when not")

    p = cmd("run", "train, deploy and publish what changed")
    p.add_argument("--target", choices=["local", "aws"], help="override the spec's target")
    p.add_argument("--force", action="append", default=[], metavar="STEP", help="run STEP even if unchanged")
    p.add_argument("--quiet", action="store_true", help="do not echo the steps' logs")
    p.add_argument("--json", action="store_true", help="the run's outcome as JSON on stdout")
    p.add_argument(
        "--fail-on-reject", action="store_true", help="exit 3 when a promotion gate kept the live model (for CI)"
    )
    parallelism(p)

    p = cmd("status", "the last run, and every step's status and outputs")
    p.add_argument("--json", action="store_true")

    p = cmd("history", "past runs with their steps, timings and metrics")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=20, metavar="N")

    p = cmd("destroy", "remove everything the pipeline deployed")
    p.add_argument("--target", choices=["local", "aws"], help="override the spec's target")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true")
    parallelism(p)

    p = cmd("rollback", "put the model an earlier run deployed back on an endpoint, without retraining")
    p.add_argument("--step", required=True, metavar="STEP", help="the endpoint step")
    p.add_argument("--to", required=True, type=int, metavar="RUN_ID", help="the run whose model to restore")
    p.add_argument("--target", choices=["local", "aws"], help="override the spec's target")
    p.add_argument("--json", action="store_true", help="the model now live, as JSON")

    p = cmd("schedule", "run the spec's retrain schedule in the foreground (Ctrl-C stops it)")
    p.add_argument("--force", action="append", default=[], metavar="STEP", help="force STEP on every scheduled run")
    p.add_argument("--max-runs", type=int, default=None, metavar="N", help="stop after N scheduled runs")

    p = cmd("unlock", "remove a lock left behind by a run that died")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument(
        "--force", action="store_true", help="remove it even if its run looks alive (on this host, or a fresh lease)"
    )
    p.add_argument("--json", action="store_true", help="the removed lock's holder, as JSON")

    cmd("schema", "print the pipeline JSON Schema generated from the models", file=False)

    p = cmd("export", "print the OpenAPI document (with API Gateway's extensions) an api step deploys")
    p.add_argument("--api", metavar="STEP", help="the api step (default: the spec's only one)")
    p.add_argument("--target", choices=["local", "aws"], help="check the spec against this target's rules")
    p.add_argument("-o", "--output", metavar="FILE", help="write the document to FILE instead of stdout")

    p = cmd("invoke", "call a deployed endpoint (InvokeEndpoint) or a route of a deployed API, and show the answer")
    p.add_argument("step", metavar="STEP", help="an endpoint or api step")
    p.add_argument("--route", metavar="'METHOD /path'", help="api steps: the route, with a concrete path")
    p.add_argument("--body", metavar="JSON|@FILE|-", help="the request body: the text itself, @FILE, or - for stdin")
    p.add_argument(
        "--content-type", default="application/json", metavar="TYPE", help="the body's type (default application/json)"
    )
    p.add_argument("--accept", metavar="TYPE", help="the content type to ask for")
    p.add_argument("-v", "--verbose", action="store_true", help="show the request line and the response headers")
    p.add_argument("--json", action="store_true", help="the answer as JSON: status, headers, body")
    p.add_argument("-o", "--output", metavar="FILE", help="write the response body to FILE")
    p.add_argument("--target", choices=["local", "aws"], help="the target it is deployed on (default: as recorded)")

    p = cmd("logs", "a step's log: a training job's, an endpoint's, an API's access log and its Lambda routes'")
    p.add_argument("step", metavar="STEP", help="a training, endpoint or api step")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new events until Ctrl-C")
    p.add_argument("--since", metavar="AGE|TIME", help="only events of the last AGE (30s, 10m, 2h, 1d) or after TIME")
    p.add_argument("--route", metavar="'METHOD /path'", help="api steps: only this lambda route's function log")
    p.add_argument("--json", action="store_true", help="one JSON object per event")
    p.add_argument("--target", choices=["local", "aws"], help="the target it is deployed on (default: as recorded)")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def parallelism(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--parallelism",
        type=_positive,
        default=4,
        metavar="N",
        help="run up to N independent steps at the same time (default 4; 1 runs them one by one)",
    )


def _stop_on_sigterm():
    """SIGTERM (a CI job cancelled, `kill`) stops a run like Ctrl-C does: the running step
    is stopped and recorded as interrupted, the lock released, and the next run resumes."""
    import signal
    import threading

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        return signal.signal(signal.SIGTERM, interrupt)
    return None


def _handler(command: str, whole_process: bool) -> Callable:
    """The command's function. Importing it builds most of what the process will hold
    (pydantic, the spec's models: tens of thousands of objects that live until exit). The
    cyclic GC would walk them again and again, so it pauses meanwhile; a process that runs
    only this command then freezes them, so neither later collections nor the one at exit
    walk them. In-process callers get their GC back as it was, nothing frozen."""
    module, _, function = COMMANDS[command].partition(":")
    enabled = gc.isenabled()
    gc.disable()
    try:
        return getattr(importlib.import_module(module), function)
    finally:
        if whole_process:
            gc.freeze()
        if enabled:
            gc.enable()


def main(argv: Sequence[str] | None = None, targets: dict[str, Callable] | None = None) -> int:
    """Entry point. `targets` overrides target classes by name (tests pass fakes).
    Without `argv` it is the process's own command line (`python -m orchestrator`)."""
    whole_process = argv is None
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    args.argv = argv  # recorded with each run, so history shows exactly what was asked
    previous = _stop_on_sigterm()
    try:
        return _handler(args.command, whole_process)(args, targets or {})
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except OrchestratorError as exc:
        sys.stderr.write(exc.render())
        return exc.exit_code
    except Exception as exc:  # the last resort: one line, not a traceback
        if getattr(args, "debug", False):
            raise
        sys.stderr.write(
            f"internal error: {type(exc).__name__}: {exc}\n  hint: run again with --debug for the traceback\n"
        )
        return EXIT_FAILED
    finally:
        if previous is not None:  # main() may run inside a longer-lived process
            import signal

            signal.signal(signal.SIGTERM, previous)
