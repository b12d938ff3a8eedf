"""plan shows transform and tuning steps like the SageMaker jobs they are: billed on aws, free locally."""

from __future__ import annotations

from orchestrator.cli import main

SPEC = """\
version: 1
name: billing
aws: {role_arn: "arn:aws:iam::123456789012:role/SageMakerExecution", bucket: my-bucket}
steps:
  tune:
    type: tuning
    training:
      framework: sklearn
      entry_point: train.py
      inputs: {train: data.csv}
      metrics: [{name: accuracy, regex: 'accuracy=([0-9.]+)'}]
    objective: {metric: accuracy}
    ranges: {C: {min: 0.1, max: 2.0}}
    strategy: Random
    max_jobs: 4
  score:
    type: transform
    model: ${steps.tune.outputs.model}
    framework: sklearn
    input: data.csv
"""


def test_transform_and_tuning_are_billed_on_aws_only(tmp_path, capsys):
    (tmp_path / "data.csv").write_text("1,2\n")
    (tmp_path / "train.py").write_text("print('accuracy=0.9')\n")
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC)
    assert main(["plan", str(spec), "--target", "aws"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:3] == ["  + tune   run      new step  [billed]", "  + score  run      new step  [billed]"]
    assert main(["plan", str(spec)]) == 0
    assert "[billed]" not in capsys.readouterr().out


def test_a_change_of_only_the_promotion_gate_is_not_billed():
    from orchestrator.plan import REPLACE, Cause, Op, Reason

    gate = Reason(Cause.GATE_CHANGED, ("promote_when.at_least",))
    config = Reason(Cause.CONFIG_CHANGED, ("instance.type",))
    assert not Op("deploy", "endpoint", REPLACE, (gate,), billed=True).costs_money
    assert Op("deploy", "endpoint", REPLACE, (config, gate), billed=True).costs_money
