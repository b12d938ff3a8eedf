"""A processing step's spec: its outputs are references, and what SageMaker refuses is a located error."""

from __future__ import annotations

import textwrap

from orchestrator.cli import main

SPEC = """
name: prep
steps:
  prepare:
    type: processing
    framework: sklearn
    entry_point: prepare.py
    inputs: {raw: data.csv}
    outputs: [train, test]
  train:
    type: training
    framework: sklearn
    entry_point: train.py
    inputs: {train: "${steps.prepare.outputs.train}"}
"""


def write(tmp_path, text):
    (tmp_path / "prepare.py").write_text("print('hi')\n")
    (tmp_path / "train.py").write_text("print('hi')\n")
    (tmp_path / "data.csv").write_text("1,2\n")
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(textwrap.dedent(text).lstrip())
    return spec


def test_a_processing_step_publishes_the_outputs_it_names(tmp_path, capsys):
    assert main(["validate", str(write(tmp_path, SPEC))]) == 0


def test_an_output_the_step_does_not_name_is_a_dangling_reference(tmp_path, capsys):
    spec = write(tmp_path, SPEC.replace("outputs.train}", "outputs.validation}"))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "steps.train.inputs.train" in err and "validation" in err


def test_what_sagemaker_processing_refuses_is_located(tmp_path, capsys):
    text = (
        SPEC.replace(
            "    framework: sklearn\n    entry_point: prepare.py\n",
            "    image: my/image:1\n    framework: sklearn\n",
            1,
        )
        .replace("inputs: {raw: data.csv}", "inputs: {raw: data.csv}\n    instance: {type: ml.t2.medium}")
        .replace("outputs: [train, test]", "outputs: [train, test, train]\n    report: {output: metrics}")
    )
    assert main(["validate", str(write(tmp_path, text))]) == 2
    lines = capsys.readouterr().err.splitlines()
    joined = "\n".join(lines)
    assert ":4:5: error: steps.prepare: processing step sets framework and image: choose one" in joined
    assert "error: steps.prepare: framework processing needs 'entry_point'" in joined
    assert "steps.prepare.instance.type: unknown instance type 'ml.t2.medium' for processing" in joined
    assert "steps.prepare.outputs[2]: output 'train' is listed twice" in joined
    assert "steps.prepare.report.output: report names output 'metrics', which is not in outputs" in joined


def test_the_framework_processor_owns_the_code_input(tmp_path, capsys):
    spec = write(tmp_path, SPEC.replace("inputs: {raw: data.csv}", "inputs: {code: data.csv}"))
    assert main(["validate", str(spec)]) == 2
    assert "steps.prepare.inputs.code: input name 'code' is where the framework processor puts the script" in (
        capsys.readouterr().err
    )


def test_plan_marks_a_processing_step_billed_on_aws(tmp_path, capsys):
    spec = write(
        tmp_path,
        SPEC.replace(
            "name: prep\n", 'name: prep\ntarget: aws\naws: {role_arn: "arn:aws:iam::123456789012:role/R", bucket: b}\n'
        ),
    )
    assert main(["plan", str(spec)]) == 0
    assert "+ prepare  run      new step  [billed]" in capsys.readouterr().out
