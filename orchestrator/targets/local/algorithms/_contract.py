"""The training side of SageMaker's container contract, shared by every built-in stand-in.

A real built-in algorithm container reads `/opt/ml/input/config/hyperparameters.json`
(every value a string, sometimes JSON-encoded), its channels under `/opt/ml/input/data`,
writes the model to `/opt/ml/model` and, when it fails, the reason to
`/opt/ml/output/failure` before exiting non-zero. The stand-ins do the same, taking the
paths from the `SM_*` variables the training toolkit sets, so a job folder the local
target prepares looks, to them, exactly like `/opt/ml`.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from orchestrator.targets.local.algorithms import MARKER_FILE

SAGEMAKER_ROOT = Path("/opt/ml")
DEFAULT_SEED = 0


class ClientError(Exception):
    """A problem with the job's inputs or hyperparameters: SageMaker reports these as ClientError."""


def fail(message: str) -> NoReturn:
    raise ClientError(message)


# --- hyperparameters -------------------------------------------------------------------


def integer(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("expected an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("expected an integer")
        return int(value)
    return int(str(value).strip())


def number(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("expected a number")
    return float(value)


def text(value: Any) -> str:
    return str(value).strip()


def names(value: Any) -> list[str]:
    """A list of names, given as "a,b" or as a JSON list (the SDK encodes a Python list that way)."""
    if isinstance(value, str) and value.strip().startswith("["):
        value = json.loads(value)
    items = value if isinstance(value, list) else str(value).split(",")
    result = [str(item).strip() for item in items if str(item).strip()]
    if not result:
        raise ValueError("expected one or more names")
    return result


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError("expected true or false")


def auto_or(kind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Several built-ins take the string "auto" in place of a number."""

    def convert(value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        return kind(value)

    convert.__name__ = f"auto or {kind.__name__}"
    return convert


REQUIRED = object()


@dataclass(frozen=True)
class Param:
    """One hyperparameter the stand-in honours: its type, default (or REQUIRED), allowed values, bounds."""

    kind: Callable[[Any], Any]
    default: Any = None
    choices: tuple[Any, ...] = ()
    minimum: float | None = None


@dataclass(frozen=True)
class HyperparameterSpec:
    """What an algorithm understands.

    `params` are honoured. `ignored` are real hyperparameters of the built-in that the stand-in
    accepts but cannot emulate: setting one prints a warning with the reason. Names in neither
    are rejected, as the real algorithm's validation rejects them.
    """

    algorithm: str
    params: dict[str, Param]
    ignored: dict[str, str] = field(default_factory=dict)


def decode_value(raw: Any) -> Any:
    """SageMaker writes values as strings; the SDK JSON-encodes them ("5", "\\"binary:logistic\\"")."""
    if not isinstance(raw, str):
        return raw
    try:
        decoded = json.loads(raw)
    except (json.JSONDecodeError, ValueError):
        return raw
    return decoded if isinstance(decoded, (str, int, float, bool)) else raw


def parse_hyperparameters(spec: HyperparameterSpec, raw: dict[str, Any], log: Log) -> dict[str, Any]:
    values: dict[str, Any] = {}
    unknown = sorted(
        name for name in raw if name not in spec.params and name not in spec.ignored and not _is_platform_key(name)
    )
    if unknown:
        fail(
            f"hyperparameter(s) {', '.join(unknown)} are not hyperparameters of {spec.algorithm}. "
            f"Known: {', '.join(sorted(spec.params))}"
            + (f"; accepted but not emulated locally: {', '.join(sorted(spec.ignored))}" if spec.ignored else "")
        )
    for name in sorted(set(raw) & set(spec.ignored)):
        log.warning(
            f"hyperparameter {name}={decode_value(raw[name])!r} is ignored by the local stand-in: {spec.ignored[name]}"
        )
    missing = sorted(name for name, param in spec.params.items() if param.default is REQUIRED and name not in raw)
    if missing:
        fail(f"missing required hyperparameter(s) for {spec.algorithm}: {', '.join(missing)}")
    for name, param in spec.params.items():
        if name not in raw:
            values[name] = param.default
            continue
        values[name] = _convert(name, param, decode_value(raw[name]))
    return values


def _is_platform_key(name: str) -> bool:
    """Keys SageMaker itself adds (tuning, SDK bookkeeping), which built-ins tolerate."""
    return name.startswith(("_", "sagemaker_"))


def _convert(name: str, param: Param, value: Any) -> Any:
    try:
        converted = param.kind(value)
    except (TypeError, ValueError):
        fail(f"hyperparameter {name}={value!r} is not valid: expected {param.kind.__name__}")
    if param.choices and converted not in param.choices:
        fail(f"hyperparameter {name}={converted!r} is not valid: choose one of {', '.join(map(str, param.choices))}")
    if param.minimum is not None and isinstance(converted, (int, float)) and converted < param.minimum:
        fail(f"hyperparameter {name}={converted!r} is not valid: must be at least {param.minimum:g}")
    return converted


# --- the job's folders and log -----------------------------------------------------------


class Log:
    """Lines go to stdout unbuffered, which the training log (and its metric regexes) reads."""

    def info(self, message: str) -> None:
        print(message, flush=True)

    def warning(self, message: str) -> None:
        print(f"[WARNING] {message}", flush=True)


@dataclass
class TrainingJob:
    """The paths and settings of one job, from the SM_* variables with SageMaker's defaults."""

    model_dir: Path
    output_dir: Path
    output_data_dir: Path
    input_config_dir: Path
    input_data_dir: Path
    host: str
    log: Log = field(default_factory=Log)

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> TrainingJob:
        env = os.environ if environ is None else environ
        model_dir = Path(env.get("SM_MODEL_DIR", SAGEMAKER_ROOT / "model"))
        root = model_dir.parent  # the job folder, /opt/ml on SageMaker
        output_dir = (
            Path(env["SM_OUTPUT_DIR"])
            if "SM_OUTPUT_DIR" in env
            else (Path(env["SM_OUTPUT_DATA_DIR"]).parent if "SM_OUTPUT_DATA_DIR" in env else root / "output")
        )
        input_dir = Path(env.get("SM_INPUT_DIR", root / "input"))
        return cls(
            model_dir=model_dir,
            output_dir=output_dir,
            output_data_dir=Path(env.get("SM_OUTPUT_DATA_DIR", output_dir / "data")),
            input_config_dir=Path(env.get("SM_INPUT_CONFIG_DIR", input_dir / "config")),
            input_data_dir=input_dir / "data",
            host=env.get("SM_CURRENT_HOST", "algo-1"),
        )

    def raw_hyperparameters(self) -> dict[str, Any]:
        """hyperparameters.json as SageMaker writes it; SM_HPS when there is no such file."""
        path = self.input_config_dir / "hyperparameters.json"
        if path.is_file():
            return _read_json_object(path)
        if "SM_HPS" in os.environ:
            try:
                loaded = json.loads(os.environ["SM_HPS"])
            except json.JSONDecodeError as exc:
                fail(f"SM_HPS is not valid JSON: {exc}")
            if not isinstance(loaded, dict):
                fail("SM_HPS must be a JSON object")
            return loaded
        return {}

    def hyperparameters(self, spec: HyperparameterSpec) -> dict[str, Any]:
        values = parse_hyperparameters(spec, self.raw_hyperparameters(), self.log)
        shown = {
            name: value for name, value in values.items() if value is not None
        }  # what is set, as the real ones log
        self.log.info(f"Final configuration: {json.dumps(shown, sort_keys=True)}")
        return values

    def channel(self, name: str, required: bool = False) -> Path | None:
        env_value = os.environ.get(f"SM_CHANNEL_{name.upper()}")
        path = Path(env_value) if env_value else self.input_data_dir / name
        if path.exists():
            return path
        if required:
            fail(f"the '{name}' channel is required: give the training step an input named '{name}'")
        return None

    def channel_content_type(self, name: str) -> str | None:
        """The channel's ContentType from inputdataconfig.json, lower-cased without parameters."""
        path = self.input_config_dir / "inputdataconfig.json"
        if not path.is_file():
            return None
        content_type = _read_json_object(path).get(name, {}).get("ContentType")
        return content_type.split(";")[0].strip().lower() if isinstance(content_type, str) else None

    def quality_metric(self, split: str, name: str, value: float, kind: str = "score") -> None:
        """The line SageMaker's first-party algorithms print, e.g. `#quality_metric: host=algo-1, test accuracy <score>=0.93`."""
        self.log.info(f"#quality_metric: host={self.host}, {split} {name} <{kind}>={value:.6g}")

    def write_marker(self, algorithm: str, **details: Any) -> None:
        """Tells an endpoint which stand-in's inference module serves this model."""
        self.model_dir.mkdir(parents=True, exist_ok=True)
        marker = {"algorithm": algorithm, **details}
        (self.model_dir / MARKER_FILE).write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n")

    def write_failure(self, reason: str) -> None:
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            (self.output_dir / "failure").write_text(reason, encoding="utf-8")
        except OSError as exc:  # the reason still reaches the log
            print(f"could not write {self.output_dir / 'failure'}: {exc}", file=sys.stderr)


def _read_json_object(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"could not read {path.name}: {exc}")
    if not isinstance(loaded, dict):
        fail(f"{path.name} must hold a JSON object")
    return loaded


def run(train: Callable[[TrainingJob], None]) -> NoReturn:
    """Run one training program the way a built-in container does: a failure leaves output/failure and exit 1."""
    job = TrainingJob.from_environment()
    try:
        train(job)
    except ClientError as exc:
        reason = f"ClientError: {exc}"
        print(reason, file=sys.stderr, flush=True)
        job.write_failure(reason)
        sys.exit(1)
    except Exception as exc:
        traceback.print_exc()
        job.write_failure(f"AlgorithmError: {type(exc).__name__}: {exc}")
        sys.exit(2)
    sys.exit(0)
