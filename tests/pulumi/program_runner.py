"""Run the packaged Pulumi program once under mocks and write what it registered as JSON.

Usage: python program_runner.py OUT.json  (stack config comes from PULUMI_CONFIG).
Each scenario runs in its own process: the Pulumi runtime keeps global state
(settings, registered URNs, config) that a second program in one process would trip on.

TEST_ENTRY picks how the program is entered: `build` (default; its return value is the
outputs), `inline` (the callable the hand-off gives the Automation API) or `by-hand`
(`pulumi/__main__.py`, what `pulumi up` runs in that folder); for the last two the
outputs are what they export.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path

import pulumi

ROOT = Path(__file__).resolve().parents[2]
# The table of AWS's rules (tests/aws/rules) as the top-level package `rules`: the repository root itself
# must stay off sys.path, or its `orchestrator` would shadow the installed one a packaging test runs.
sys.path.insert(1, str(ROOT / "tests" / "aws"))

from fake_provider import FakeAccount, autoname  # noqa: E402

BY_HAND_ENTRY = ROOT / "pulumi" / "__main__.py"
ACCOUNT_ID = "123456789012"
REGION = json.loads(os.environ.get("PULUMI_CONFIG", "{}")).get("aws:region", "eu-west-1")
DNS_SUFFIX = "amazonaws.com.cn" if REGION.startswith("cn-") else "amazonaws.com"


SECRET_KEY, SECRET_SIG = (
    "4dabf18193072939515e22adb298388d",
    "1b47061264138c4ac30d75fd1eb44270",
)  # how the engine marks a secret


def _is_secret(value) -> bool:
    return isinstance(value, dict) and value.get(SECRET_KEY) == SECRET_SIG


def _has_secret(value) -> bool:
    if _is_secret(value):
        return True
    if isinstance(value, dict):
        return any(_has_secret(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_secret(item) for item in value)
    return False


def _plain(value):
    """Inputs as JSON: assets and archives become their path or text; secrets their value."""
    if _is_secret(value):
        return _plain(value["value"])
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, pulumi.FileArchive):
        return {"archive": value.path}
    if isinstance(value, pulumi.FileAsset):
        return {"asset": value.path}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like AWS would for the few computed properties the program reads, names resources
    as the provider does (autonaming, with its limits), and holds each against AWS's rules."""

    def __init__(self):
        self.resources: list[dict] = []
        self.account = FakeAccount(REGION)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        kind = args.typ
        inputs = autoname(kind, args.name, dict(args.inputs))
        resource_id = f"{args.name}-id"
        state = dict(inputs)
        partition = "aws-cn" if REGION.startswith("cn-") else "aws-us-gov" if REGION.startswith("us-gov-") else "aws"
        if kind == "aws:apigateway/restApi:RestApi":
            state.update(
                rootResourceId="root-id",
                executionArn=f"arn:{partition}:execute-api:{REGION}:{ACCOUNT_ID}:{resource_id}",
            )
        elif kind == "aws:iam/role:Role":
            resource_id = inputs["name"]  # a role's id is its name
            state["arn"] = f"arn:{partition}:iam::{ACCOUNT_ID}:role/{inputs['name']}"
        elif kind == "aws:cloudwatch/logGroup:LogGroup":
            state["arn"] = f"arn:{partition}:logs:{REGION}:{ACCOUNT_ID}:log-group:{inputs['name']}"
        elif kind == "aws:lambda/function:Function":
            arn = f"arn:{partition}:lambda:{REGION}:{ACCOUNT_ID}:function:{inputs['name']}"
            state.update(
                arn=arn,
                invokeArn=f"arn:{partition}:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations",
            )
        elif kind == "aws:s3/bucket:Bucket":
            resource_id = inputs["bucket"]  # a bucket's id is its name
            state["arn"] = f"arn:{partition}:s3:::{inputs['bucket']}"
        elif kind == "aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration":
            state["websiteEndpoint"] = f"site-bucket.s3-website-{REGION}.{DNS_SUFFIX}"
        elif kind == "aws:apigateway/apiKey:ApiKey":
            state["value"] = "secret-key-value"
        self.account.states[resource_id] = state
        self.account.hold(kind, args.name, state)
        self.resources.append(
            {
                "type": kind,
                "name": args.name,
                "inputs": _plain(inputs),  # as the provider sends them: with the name autonaming gave
                "secret_inputs": sorted(key for key, value in args.inputs.items() if _has_secret(value)),
            }
        )
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/test",
                "id": ACCOUNT_ID,
                "userId": "test",
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {"region": REGION, "name": REGION, "id": REGION}
        return {}


def main(out_path: str) -> None:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(
        mocks, project="orchestrator", stack=os.environ.get("TEST_STACK", "demo-prod"), preview=False
    )
    # after set_mocks, as Pulumi's testing guide requires
    from orchestrator.targets.aws.web import program
    from orchestrator.targets.aws.web.handoff import packaged_program

    result: dict = {}
    exported: dict = {}
    entry = os.environ.get("TEST_ENTRY", "build")
    real_export = pulumi.export

    def recording_export(name, value):
        exported[name] = value
        real_export(name, value)

    pulumi.export = recording_export

    @pulumi.runtime.test
    def run():
        if entry == "by-hand":
            runpy.run_path(str(BY_HAND_ENTRY), run_name="__main__")
        elif entry == "inline":
            packaged_program()()
        else:
            return pulumi.Output.from_input(program.build()).apply(result.update)
        return pulumi.Output.from_input(exported).apply(result.update)

    error = None
    try:
        run()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    Path(out_path).write_text(
        json.dumps(
            {
                "resources": mocks.resources,
                "outputs": _plain(result),
                "error": error,
                "package": program.__file__,
                "refused": mocks.account.refused,
            },
            indent=1,
            default=repr,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
