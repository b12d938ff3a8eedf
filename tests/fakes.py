"""A fake target: records what the executor asks of it and can fail or hang on demand.

It is a real Target implementation (no mocking): the executor, state and CLI run
unchanged around it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from orchestrator.errors import StepFailed, TargetError
from orchestrator.targets.base import StepHandler, StepResult, Target, pause


class FakeHandler(StepHandler):
    """Routes one kind's calls to the fake target's methods of that kind."""

    def __init__(self, target: FakeTarget, kind: str, apply, known=None):
        self.target, self.kind, self._apply, self._known = target, kind, apply, known

    def apply(self, step, ctx):
        return self._apply(step, ctx)

    def known_outputs(self, pipeline, name, step, recorded, settle):
        return self._known(name, recorded, settle) if self._known else {}

    def destroy(self, ctx):
        return self.target.destroy_step(self.kind, ctx)

    def probe(self, outputs):
        return self.target.probe_step(self.kind, outputs)

    def retire(self, ctx):
        return self.target.retire_step(self.kind, ctx)


class FakeTarget(Target):
    """Behaviour is steered by files in the state folder, so subprocess runs can be steered too.

    - `fail-<step>`: the step fails with the file's text as the reason.
    - `hang-<step>`: the step sleeps (so a test can kill the run mid-step).
    - `preflight-error`: preflight raises TargetError with the file's text.
    - `accuracy-<step>`: the training step reports this accuracy (default 0.9).
    - `target-error-<step>`: the step raises TargetError (e.g. credentials expired mid-run).
    - `s3-listing`: the digest every s3:// input's listing has when a run starts.
    - `dead-<step>`: the probe says the step's resource is gone.
    - `retire-fails-<step>`: removing the step's resource under its old name (a rename) fails.
    - `wait-<step>`: the step waits (up to 5 s, then fails) until the step named in the file has
      started: two steps can only both finish if they run at the same time.
    - `delay-<step>`: the step takes this many seconds before it fails or succeeds.
    - `origin-<step>`: a website's origin, told before it runs (as the local target's port); a
      run settles one (`http://site-<step>.fake`) when none is there, as a reservation would.
    Every call is appended to `calls.jsonl` in the state folder.
    """

    name = "fake"

    def _log(self, **call) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.state_dir / "calls.jsonl").open("a") as f:
            f.write(json.dumps(call, default=str) + "\n")

    def _maybe_fail(self, step: str) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / f"started-{step}").write_text("")
        waits = self.state_dir / f"wait-{step}"
        if waits.exists():
            other = waits.read_text().strip()
            deadline = time.monotonic() + 5
            while not (self.state_dir / f"started-{other}").exists():
                if time.monotonic() > deadline:
                    raise StepFailed(f"{step} waited for {other} to start, in vain")
                pause(0.02)
        delay = self.state_dir / f"delay-{step}"
        if delay.exists():
            pause(float(delay.read_text()))
        broken = self.state_dir / f"target-error-{step}"
        if broken.exists():
            raise TargetError(broken.read_text().strip(), hint="renew the credentials")
        fail = self.state_dir / f"fail-{step}"
        if fail.exists():
            raise StepFailed(fail.read_text().strip() or f"{step} failed", detail="last lines of the log")
        if (self.state_dir / f"hang-{step}").exists():
            self._log(op="hang", step=step, pid=os.getpid())
            pause(600)

    def preflight(self, kinds) -> None:
        marker = self.state_dir / "preflight-error"
        if marker.exists():
            raise TargetError(marker.read_text().strip(), hint="fix the fake")

    def train(self, step, ctx):
        self._log(op="train", step=ctx.step, fingerprint=ctx.fingerprint, hyperparameters=step.hyperparameters)
        self.reporter.log(f"training {ctx.step}")
        self._maybe_fail(ctx.step)
        accuracy_file = self.state_dir / f"accuracy-{ctx.step}"
        accuracy = float(accuracy_file.read_text()) if accuracy_file.exists() else 0.9
        return StepResult(
            {"model": f"fake://{ctx.step}/run{ctx.run_id}/model.tar.gz", "job_name": ctx.step},
            metrics={"accuracy": accuracy},
            message="trained",
        )

    def deploy(self, step, ctx):
        self._log(op="deploy", step=ctx.step, model=step.model)
        self._maybe_fail(ctx.step)
        name = step.endpoint_name or f"{ctx.pipeline.name}-{ctx.step}"
        return StepResult({"endpoint_name": name, "url": f"fake://endpoints/{name}", "model": step.model})

    def provision_api(self, step, ctx):
        origins = step.cors.allow_origins if step.cors else None
        self._log(op="api", step=ctx.step, endpoints=[r.endpoint for r in step.routes], origins=origins)
        self._maybe_fail(ctx.step)
        return StepResult({"url": f"fake://api/{step.stage}", "api_id": "api1"})

    def publish_website(self, step, ctx):
        self._log(op="website", step=ctx.step, config=step.config)
        self._maybe_fail(ctx.step)
        origin = self.site_origin(ctx.step, {}, settle=True)["origin"]
        return StepResult({"url": "fake://site/", "bucket": "site-bucket", "origin": origin})

    def site_origin(self, step: str, recorded, settle: bool) -> dict[str, str]:
        marker = self.state_dir / f"origin-{step}"
        if settle and not marker.exists():
            self.state_dir.mkdir(parents=True, exist_ok=True)
            marker.write_text(f"http://site-{step}.fake")
        return {"origin": marker.read_text().strip()} if marker.exists() else {}

    def handlers(self):
        methods = {"training": self.train, "endpoint": self.deploy, "api": self.provision_api}
        handlers = {kind: FakeHandler(self, kind, apply) for kind, apply in methods.items()}
        return {**handlers, "website": FakeHandler(self, "website", self.publish_website, self.site_origin)}

    def probe_step(self, kind, outputs):
        dead = {p.name.removeprefix("dead-") for p in self.state_dir.glob("dead-*")}
        return False if any(outputs.get("url", "").endswith(step) or step in str(outputs) for step in dead) else None

    def data_digests(self, uris):
        listing = self.state_dir / "s3-listing"
        return {uri: listing.read_text().strip() for uri in uris} if listing.exists() else None

    def retire_step(self, kind, ctx):
        old = ctx.previous.outputs
        self._log(op="retire", step=ctx.step, kind=kind, outputs=old)
        if (self.state_dir / f"retire-fails-{ctx.step}").exists():
            raise StepFailed(f"cannot remove {old.get('endpoint_name')}")
        return f"removed {old.get('endpoint_name') or old}"

    def destroy_step(self, kind, ctx):
        self._log(op="destroy", step=ctx.step, kind=kind, outputs=ctx.previous.outputs if ctx.previous else None)
        self._maybe_fail(ctx.step)
        return f"removed {kind} {ctx.step}"


def calls(state_dir: Path) -> list[dict]:
    path = state_dir / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
