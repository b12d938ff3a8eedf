"""A fake `/opt/ml` job folder that trains a stand-in in a real subprocess, and an in-process invoker."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from orchestrator.targets.local.algorithms import MARKER_FILE, inference_module, train_module

ROOT = Path(__file__).resolve().parents[2]
TRAIN_TIMEOUT_S = 120


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str

    @property
    def log(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Job:
    """One training job's folder, shaped as SageMaker's /opt/ml."""

    root: Path

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def config_dir(self) -> Path:
        return self.root / "input" / "config"

    @property
    def failure(self) -> Path:
        return self.output_dir / "failure"

    def channel(self, name: str) -> Path:
        path = self.root / "input" / "data" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write_hyperparameters(self, hyperparameters: dict[str, Any]) -> None:
        """As the SageMaker SDK writes them: every value a JSON-encoded string."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        encoded = {name: json.dumps(value) for name, value in hyperparameters.items()}
        (self.config_dir / "hyperparameters.json").write_text(json.dumps(encoded))

    def write_csv(self, channel: str, features: np.ndarray, labels: np.ndarray, name: str = "data.csv") -> Path:
        """Label first, no header: the built-ins' CSV training format."""
        path = self.channel(channel) / name
        np.savetxt(path, np.column_stack([labels, features]), delimiter=",", fmt="%.6g")
        return path

    def write_text(self, channel: str, lines: list[str], name: str = "data.txt") -> Path:
        path = self.channel(channel) / name
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return path

    def train(self, algorithm: str, extra_env: dict[str, str] | None = None) -> Finished:
        """`python -m <the algorithm's train module>` with the SM_* variables the training toolkit sets."""
        for folder in (self.model_dir, self.output_dir / "data", self.config_dir):
            folder.mkdir(parents=True, exist_ok=True)
        env = {key: value for key, value in os.environ.items() if not key.startswith("SM_")}
        env.update(
            {
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
                "PYTHONUNBUFFERED": "1",
                "SM_MODEL_DIR": str(self.model_dir),
                "SM_OUTPUT_DIR": str(self.output_dir),
                "SM_OUTPUT_DATA_DIR": str(self.output_dir / "data"),
                "SM_INPUT_CONFIG_DIR": str(self.config_dir),
                "SM_CURRENT_HOST": "algo-1",
            }
        )
        data_dir = self.root / "input" / "data"
        channels = sorted(path.name for path in data_dir.iterdir()) if data_dir.is_dir() else []
        env["SM_CHANNELS"] = json.dumps(channels)
        for name in channels:
            env[f"SM_CHANNEL_{name.upper()}"] = str(data_dir / name)
        env.update(extra_env or {})
        completed = subprocess.run(
            [sys.executable, "-m", train_module(algorithm)],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=TRAIN_TIMEOUT_S,
            check=False,
        )
        return Finished(completed.returncode, completed.stdout, completed.stderr)

    def marker(self) -> dict[str, Any]:
        return json.loads((self.model_dir / MARKER_FILE).read_text())


def inference(algorithm: str):
    """The stand-in's inference module, found through the registry and imported as an endpoint would."""
    return importlib.import_module(inference_module(algorithm))


def invoke(module, model: Any, body: bytes | str, content_type: str, accept: str | None) -> tuple[str, str]:
    """input_fn -> predict_fn -> output_fn, the way the inference toolkit chains them."""
    data = module.input_fn(body, content_type)
    prediction = module.predict_fn(data, model)
    return module.output_fn(prediction, accept)


def metric(log: str, regex: str) -> float:
    """The last value a metric-definition regex captures in the log, as a training job's metrics are read."""
    values = re.findall(regex, log)
    assert values, f"no log line matches {regex!r}:\n{log}"
    return float(values[-1])


def csv_body(rows: np.ndarray) -> str:
    """Rows as `text/csv` without header or label, as a client sends them."""
    return "\n".join(",".join(repr(float(value)) for value in row) for row in rows) + "\n"
