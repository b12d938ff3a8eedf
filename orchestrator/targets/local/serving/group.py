"""The daemon's side of an endpoint's process group: its model folder, its environment, its supervisor.

The daemon keeps each endpoint's listening socket for as long as the endpoint exists
and hands it to every group it starts, so a redeploy is: extract the new model, start a
new group on the same socket, wait until all its workers loaded the model, then drain
the old group. Requests queue on the socket meanwhile; none is refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

from ..aws_env import local_aws_environment
from ..daemon.protocol import EndpointRequest
from ..logbook import LogWriter, pump_lines
from .inference import ModelLoadError, extract_model

log = logging.getLogger("orchestrator.local.endpoint")
SUPERVISOR = "orchestrator.targets.local.serving.supervisor"
PACKAGE_ROOT = Path(__file__).resolve().parents[4]  # the folder that holds `orchestrator/`: the model server
MB = 1024 * 1024
PAYLOAD_LIMITS = {False: 6 * MB, True: 4 * MB}  # InvokeEndpoint: real-time, serverless (docs: endpoint quotas)
REPACKED = ("pytorch", "tensorflow")  # their containers read the handler from model.tar.gz/code/
# What of the daemon's environment an endpoint's container still has: the machine, not the shell's settings.
MACHINE = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
STOP_TIMEOUT_S = 40.0


def worker_count(environment: Mapping[str, str]) -> int:
    """SAGEMAKER_MODEL_SERVER_WORKERS, as the inference toolkit reads it; default one per core."""
    configured = environment.get("SAGEMAKER_MODEL_SERVER_WORKERS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return os.cpu_count() or 1


def prepare_model(spec: EndpointRequest, model_file: str, work_dir: Path) -> tuple[Path, Path | None]:
    """The model folder a group serves, and its inference module (None: packed or built-in).

    PyTorch and TensorFlow read the handler from `code/` in the archive, where the SageMaker
    SDK repacks the step's inference module with its folder; here it is repacked the same way.
    """
    model_dir = extract_model(model_file, work_dir)
    inference = Path(spec.inference) if spec.inference else None
    if inference is None or spec.framework not in REPACKED:
        return model_dir, inference
    if model_dir != work_dir:  # a model folder given as is: never write into the user's folder
        shutil.copytree(model_dir, work_dir, dirs_exist_ok=True)
        model_dir = work_dir
    code = model_dir / "code"
    shutil.rmtree(code, ignore_errors=True)
    shutil.copytree(inference.parent, code, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    return model_dir, code / inference.name


def endpoint_environment(
    spec: EndpointRequest, name: str, port: int, workers: int, s3_url: str, inference: Path | None
) -> dict[str, str]:
    """A container's environment: the machine's basics, SageMaker's variables, the step's own."""
    env = {key: os.environ[key] for key in MACHINE if key in os.environ}
    env.update(local_aws_environment(s3_url, spec.region))
    env.update(
        {
            "PYTHONPATH": str(PACKAGE_ROOT),
            "PYTHONUNBUFFERED": "1",
            "SAGEMAKER_BIND_TO_PORT": str(port),
            "SAGEMAKER_MODEL_SERVER_WORKERS": str(workers),
            "SAGEMAKER_REGION": spec.region,
            "SAGEMAKER_ENDPOINT_NAME": name,
        }
    )
    if inference is not None:
        env["SAGEMAKER_PROGRAM"] = inference.name
        env["SAGEMAKER_SUBMIT_DIRECTORY"] = str(inference.parent)
    env.update(spec.environment)
    if "PYTHONPATH" in spec.environment:  # the model server stays importable
        env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_ROOT), spec.environment["PYTHONPATH"]])
    return env


class EndpointGroup:
    """One running supervisor and its workers, in a process group of their own."""

    def __init__(
        self,
        name: str,
        process: asyncio.subprocess.Process,
        model_dir: Path,
        workers: list[int],
        output: asyncio.Task | None = None,
    ):
        self.name, self.process, self.model_dir, self.workers = name, process, model_dir, workers
        self.draining = asyncio.Event()
        self._events = asyncio.get_running_loop().create_task(self._follow())
        self._output = output  # copies the container's stderr into the endpoint's log until it ends

    @property
    def pgid(self) -> int:
        return self.process.pid

    @classmethod
    async def start(
        cls, name: str, sock: socket.socket, config: dict, env: dict[str, str], model_dir: Path, log: LogWriter
    ) -> EndpointGroup:
        """A group whose every worker has loaded the model; ModelLoadError with the reason otherwise."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            SUPERVISOR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=str(model_dir),
            pass_fds=(sock.fileno(),),
            start_new_session=True,  # its own process group, as a container is its own world
        )
        output = asyncio.get_running_loop().create_task(pump_lines(process.stderr, log.write))
        try:
            process.stdin.write((json.dumps({**config, "fd": sock.fileno()}) + "\n").encode())
            await process.stdin.drain()
            line = await process.stdout.readline()
        except BaseException:
            _kill_group(process.pid)
            raise
        said = json.loads(line) if line.strip() else {"error": f"the endpoint's server exited ({await process.wait()})"}
        if "error" in said:
            _kill_group(process.pid)
            await process.wait()
            raise ModelLoadError(said["error"])
        return cls(name, process, model_dir, said["workers"], output)

    async def _follow(self) -> None:
        """The supervisor's later news: the workers it restarted."""
        while True:
            line = await self.process.stdout.readline()
            if not line:
                return
            try:
                news = json.loads(line)
            except ValueError:
                continue
            self.workers = news.get("workers", self.workers)
            if news.get("draining"):
                self.draining.set()

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def scale(self, count: int) -> None:
        """Ask the supervisor for `count` workers; its answer (the new list) arrives as news."""
        if self.alive and not self.process.stdin.is_closing():
            try:
                self.process.stdin.write((json.dumps({"scale": count}) + "\n").encode())
                await self.process.stdin.drain()
            except (ConnectionError, RuntimeError):
                return

    async def begin_drain(self) -> None:
        """Tell the workers to stop taking requests; returns once each has begun (it stops accepting,
        and each open connection gets one last answer that says close)."""
        if self.alive and not self.process.stdin.is_closing():
            try:
                self.process.stdin.write(b"drain\n")
                await self.process.stdin.drain()
                self.process.stdin.close()
            except (ConnectionError, RuntimeError):
                return
            try:
                await asyncio.wait_for(self.draining.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                log.error("endpoint %s: its old workers did not begin draining in time", self.name)

    async def stop(self) -> None:
        """Drain, then wait until the workers finished what they had and exited."""
        await self.begin_drain()
        if self.alive:
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                log.error("endpoint %s: its old workers did not stop in time; killing them", self.name)
        _kill_group(self.pgid)
        await self.process.wait()
        self._events.cancel()
        if self._output is not None:  # the last lines the workers wrote reach the log
            await asyncio.wait([self._output], timeout=1.0)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_leftover_groups(pgids: list[int]) -> None:
    """Groups a killed daemon left behind (they would hold its endpoints' ports): ours only, by their command."""
    wanted = set(pgids)
    for entry in Path("/proc").iterdir() if wanted else ():
        if not entry.name.isdigit():
            continue
        try:
            pgrp = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[2])
            if pgrp in wanted and b"orchestrator.targets.local.serving" in (entry / "cmdline").read_bytes():
                _kill_group(pgrp)
                wanted.discard(pgrp)
        except (OSError, IndexError, ValueError):
            continue
