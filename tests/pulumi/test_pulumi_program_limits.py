"""The program within AWS's limits: names that fit with autonaming, tags, partitions, big bundles, secrets.

Every run here goes through the provider's emulation (`fake_provider.py`): a name
autonaming cannot fit fails the run, and a request AWS would refuse fails the test.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from orchestrator.apidoc.paths import INTEGRATION
from orchestrator.targets.aws.web import stack_config as keys

from .api_runs import DIRECT_ROUTE, LAMBDA_ROUTE, api_config, deployed_document, policy
from .fake_provider import AUTONAMED, FakeAccount, ProviderError, autoname
from .pulumi_support import run_program

LONG_PIPELINE = "a-pipeline-name-that-is-as-long-as-allow"  # 40 characters: the longest a spec takes
TAGGABLE = {"Role", "Function", "LogGroup", "RestApi", "Stage", "ApiKey", "UsagePlan", "Bucket"}


def full_config(project: Path, pipeline: str = "demo", region: str = "eu-west-1", **api) -> dict[str, str]:
    config = api_config(
        project,
        {
            "stage": "prod",
            "routes": [LAMBDA_ROUTE, {**DIRECT_ROUTE, "path": "/score"}],
            "cors": {"allow_origins": ["*"]},
            "api_key": {"quota_limit": 100},
            **api,
        },
    )
    config.update(
        {
            "aws:region": region,
            keys.PIPELINE_KEY: pipeline,
            keys.WEBSITE_KEY: json.dumps({"source": "web", "config": {"apiUrl": "https://x.example/prod"}}),
        }
    )
    return config


def test_autonaming_fails_past_the_limit_as_the_provider_does():
    name = "n" * 57  # 57 + "-" + 7 = 65 > 64
    with pytest.raises(ProviderError, match=r"plus 7 random chars is longer than maximum length 64$"):
        autoname("aws:iam/role:Role", name, {})
    named = autoname("aws:iam/role:Role", name[:56], {})["name"]
    assert len(named) == 64 and named.startswith(name[:56] + "-")
    assert autoname("aws:s3/bucket:Bucket", "Site", {})["bucket"].startswith("site-")  # buckets are lower case


def test_the_longest_pipeline_and_stage_names_fit_every_name_limit(project):
    stage = "a_very_long_stage_name_" * 5  # 115 characters; stages take up to 128
    run = run_program(project, full_config(project, LONG_PIPELINE, stage=stage), stack="long-prod")
    assert run.error is None, run.error
    for resource in run.resources:
        if resource["type"] in AUTONAMED:
            prop, limit, _ = AUTONAMED[resource["type"]]
            assert len(resource["inputs"][prop]) <= limit, resource
    roles = [r["inputs"]["name"] for r in run.of_type("Role")]
    assert len(roles) == 2 and all(len(name) == 64 for name in roles)  # cut to fit, suffix and autonaming included
    assert len(run.of_type("Bucket")[0]["inputs"]["bucket"]) <= 63


def test_every_resource_that_takes_tags_is_tagged(project):
    run = run_program(project, full_config(project), stack="demo-prod")
    assert run.error is None
    tagged = [r for r in run.resources if r["type"].rsplit(":", 1)[-1] in TAGGABLE]
    assert {r["type"].rsplit(":", 1)[-1] for r in tagged} == TAGGABLE
    for resource in tagged:
        assert resource["inputs"]["tags"] == {"orchestrator:pipeline": "demo", "orchestrator:stack": "demo-prod"}


def test_detailed_metrics_are_off_unless_asked_for(project):
    off = run_program(project, full_config(project), stack="demo-prod")
    on = run_program(project, full_config(project, detailed_metrics=True), stack="demo-prod")
    assert off.named("MethodSettings", "demo-prod-throttling")["settings"]["metricsEnabled"] is False
    assert on.named("MethodSettings", "demo-prod-throttling")["settings"]["metricsEnabled"] is True


def test_china_gets_its_partition_in_every_arn_and_its_domain_in_urls(project):
    """The rule table refuses any ARN of another partition; the URL ends in China's domain."""
    config = full_config(project, region="cn-north-1")
    document = json.loads(config[keys.API_KEY])
    document["routes"][0]["s3_read"] = ["s3://features/transform.joblib"]
    config[keys.API_KEY] = json.dumps(document)
    run = run_program(project, config, stack="demo-prod")
    assert run.error is None
    assert run.outputs["api_url"].endswith(".execute-api.cn-north-1.amazonaws.com.cn/prod")
    statements = policy(run.named("RolePolicy", "demo-prod-post-predict-role-policy"))["Statement"]
    assert {"arn:aws-cn:s3:::features/transform.joblib"} == {
        arn for s in statements if s["Sid"] == "ReadNamedObjects" for arn in s["Resource"]
    }
    paths = json.loads(deployed_document(run))["paths"]
    for item in (paths["/predict"]["post"], paths["/score"]["post"]):
        assert item[INTEGRATION]["uri"].startswith("arn:aws-cn:apigateway:cn-north-1:")


def test_references_stay_references_and_the_role_may_read_just_those(project):
    step_route = {
        **LAMBDA_ROUTE,
        "environment": {
            "LOG_LEVEL": "debug",
            "OPENAI_API_KEY": "{{resolve:ssm:/reviews/openai-key}}",
            "DB_PASSWORD": "{{resolve:secretsmanager:prod/db:SecretString:password}}",
        },
    }
    config = api_config(project, {"stage": "prod", "routes": [step_route]})  # no CORS: the wrapper is for references
    assert json.loads(config[keys.API_ENVIRONMENT_KEY]) == {"POST /predict": {"LOG_LEVEL": "debug"}}
    run = run_program(project, config, stack="demo-prod")
    assert run.error is None
    function = run.named("Function", "demo-prod-post-predict")
    assert function["handler"] == "lambda_shim.handler"
    variables = function["environment"]["variables"]
    assert variables["OPENAI_API_KEY"] == "{{resolve:ssm:/reviews/openai-key}}"  # the value is never configured
    assert variables["DB_PASSWORD"] == "{{resolve:secretsmanager:prod/db:SecretString:password}}"
    assert variables["ORCHESTRATOR_HANDLER"] == "handler.lambda_handler" and "ORCHESTRATOR_CORS" not in variables
    statements = {
        s["Sid"]: s for s in policy(run.named("RolePolicy", "demo-prod-post-predict-role-policy"))["Statement"]
    }
    assert statements["ReadNamedParameters"]["Resource"] == [
        "arn:aws:ssm:eu-west-1:123456789012:parameter/reviews/openai-key"
    ]
    assert statements["ReadNamedSecrets"]["Resource"] == [
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-??????"
    ]
    assert statements["ReadNamedSecrets"]["Action"] == "secretsmanager:GetSecretValue"


def write_big_wheel(folder: Path, megabytes: int) -> None:
    """A wheel whose module holds incompressible bytes, so its bundle zips to more than `megabytes`."""
    info = "bigdep-1.0.dist-info"
    with zipfile.ZipFile(folder / "bigdep-1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("bigdep/__init__.py", "")
        wheel.writestr("bigdep/blob.bin", os.urandom(megabytes * 2**20))
        wheel.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: bigdep\nVersion: 1.0\n")
        wheel.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        wheel.writestr(f"{info}/RECORD", "")


@pytest.fixture(scope="module")
def big_requirements(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """requirements.txt naming a 52 MB wheel, and pip settings that find it offline."""
    root = tmp_path_factory.mktemp("big")
    (root / "wheels").mkdir()
    write_big_wheel(root / "wheels", 52)
    (root / "requirements.txt").write_text("bigdep==1.0\n")
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(root / "wheels"), "XDG_CACHE_HOME": str(root / "cache")}
    return root / "requirements.txt", env


@pytest.mark.slow
def test_a_bundle_over_50_mb_reaches_lambda_through_the_artifact_bucket(project, big_requirements):
    requirements, env = big_requirements
    config = api_config(project, {"stage": "prod", "routes": [{**LAMBDA_ROUTE, "requirements": str(requirements)}]})
    config.update({keys.ARTIFACT_BUCKET_KEY: "team-artifacts", keys.ARTIFACT_PREFIX_KEY: "ml"})
    run = run_program(project, config, stack="demo-big", env=env)
    assert run.error is None, run.error
    function = run.named("Function", "demo-prod-post-predict")
    [upload] = run.of_type("BucketObjectv2")
    bundle = Path(upload["inputs"]["source"]["asset"])
    assert bundle.stat().st_size > 50 * 2**20
    digest = upload["inputs"]["key"].split("/")[3]
    assert upload["inputs"]["bucket"] == "team-artifacts"
    assert upload["inputs"]["key"] == f"ml/lambda/sha256/{digest}/bundle.zip"  # content-addressed
    assert "code" not in function and function["s3Bucket"] == "team-artifacts"
    assert function["s3Key"] == upload["inputs"]["key"] and function["sourceCodeHash"]


@pytest.mark.slow
def test_a_bundle_over_50_mb_without_an_artifact_bucket_says_what_to_set(project, big_requirements):
    requirements, env = big_requirements
    config = api_config(project, {"stage": "prod", "routes": [{**LAMBDA_ROUTE, "requirements": str(requirements)}]})
    run = run_program(project, config, stack="demo-big", env=env)
    assert run.error is not None and run.error.startswith(
        "PackagingError: the bundle of demo-prod-post-predict is 52 MB zipped"
    )
    assert run.error.endswith("set orchestrator:artifactBucket (the spec's aws.bucket) to upload it there")


def test_a_public_site_under_account_block_public_access_is_what_aws_refuses(project):
    """What the target's preflight prevents (it reads the account's setting first): the mocks refuse it too."""
    config = {
        "aws:region": "eu-west-1",
        keys.PIPELINE_KEY: "demo",
        keys.PROJECT_DIR_KEY: str(project),
        keys.WEBSITE_KEY: json.dumps({"source": "web", "public": True}),
    }
    run = run_program(
        project, config, stack="demo-bpa", env={"TEST_ACCOUNT_BLOCKS_PUBLIC_POLICY": "true"}, refusals_expected=True
    )
    assert run.refused == [
        "aws:s3/bucketPolicy:BucketPolicy demo-site: PutBucketPolicy: Block Public Access refuses a public policy "
        f"on {run.named('Bucket', 'demo-site')['bucket']} [s3-public-policy-blocked]"
    ]


def test_the_imported_documents_integrations_are_held_to_aws_rules():
    """The provider sends the document in PutRestApi; AWS refuses an imported integration as it
    would the PutIntegration it amounts to (here: too long a timeout, SageMaker's path with one slash)."""
    bad = {
        "paths": {
            "/p": {
                "post": {
                    INTEGRATION: {
                        "type": "aws",
                        "httpMethod": "POST",
                        "uri": "arn:aws:apigateway:eu-west-1:runtime.sagemaker:path/endpoints/ep/invocations",
                        "credentials": "arn:aws:iam::123456789012:role/r",
                        "timeoutInMillis": 30000,
                    }
                }
            }
        }
    }
    account = FakeAccount("eu-west-1")
    inputs = {"name": "demo-prod", "body": json.dumps(bad), "putRestApiMode": "overwrite"}
    account.hold("aws:apigateway/restApi:RestApi", "demo-prod", inputs)
    assert len(account.refused) == 2
    assert "timeoutInMillis 30000 is outside 50-29,000" in account.refused[0]
    assert "is not the SageMaker runtime's InvokeEndpoint path" in account.refused[1]
    account = FakeAccount("eu-west-1")
    account.hold("aws:apigateway/restApi:RestApi", "demo-prod", {**inputs, "putRestApiMode": "replace"})
    assert account.refused and "PutRestApi: mode 'replace' is not one of ['merge', 'overwrite']" in account.refused[0]
