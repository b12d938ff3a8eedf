"""`orchestrator run` with the real aws target against moto: first run, no-op re-run, retrain on new data.

The retrain redeploys through UpdateEndpoint, which moto does not implement (HTTP 500),
so the wrapper is the small UpdatingEndpoints fake, which passes every other call to moto.
"""

from __future__ import annotations

from orchestrator.cli import main
from orchestrator.targets.aws import AwsTarget

from .aws_support import BUCKET, UpdatingEndpoints, new_client

SPEC = f"""\
version: 1
name: movie-reviews
target: aws
region: us-east-1
aws: {{role_arn: "arn:aws:iam::123456789012:role/orchestrator-sagemaker", bucket: {BUCKET}}}
steps:
  train:
    type: training
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/reviews:1
    inputs: {{train: data/reviews.csv, extra: "s3://{BUCKET}/raw/"}}
  deploy:
    type: endpoint
    model: ${{steps.train.outputs.model}}
    instance: {{type: ml.t2.medium}}
"""


def test_a_no_op_rerun_only_lists_its_s3_inputs_and_changed_data_retrains(account, project, boto):
    boto["s3"].put_object(Bucket=BUCKET, Key="raw/part-0.csv", Body=b"fine,1\n")
    (project / "pipeline.yaml").write_text(SPEC)
    clients = []

    class CountedAwsTarget(AwsTarget):
        def __init__(self, *args, **kwargs):
            clients.append(new_client(UpdatingEndpoints))
            super().__init__(*args, client=clients[-1], **kwargs)
            self.poll_interval_s = 0

    assert main(["run", "--quiet", str(project / "pipeline.yaml")], targets={"aws": CountedAwsTarget}) == 0
    assert clients[-1].counts()["write"] == 5  # upload, job, model, config, endpoint
    assert main(["run", "--quiet", str(project / "pipeline.yaml")], targets={"aws": CountedAwsTarget}) == 0
    assert clients[-1].calls == {("ListObjectsV2", "read"): 1}

    boto["s3"].put_object(Bucket=BUCKET, Key="raw/part-0.csv", Body=b"fine,1\nbad,0\n")
    assert main(["run", "--quiet", str(project / "pipeline.yaml")], targets={"aws": CountedAwsTarget}) == 0
    assert clients[-1].calls[("CreateTrainingJob", "write")] == 1
    assert clients[-1].calls[("UpdateEndpoint", "write")] == 1
    assert len(boto["sagemaker"].list_training_jobs()["TrainingJobSummaries"]) == 2
