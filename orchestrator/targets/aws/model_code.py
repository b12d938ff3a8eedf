"""An endpoint's inference handler, where its serving container reads it.

The scikit-learn and XGBoost containers download an s3:// `SAGEMAKER_SUBMIT_DIRECTORY`
source tarball. The PyTorch and TensorFlow serving containers ignore one: they read
the handler from the model archive's `code/` folder, so (as the SageMaker SDK does)
the model is repacked with the handler's folder under `code/` and
`SAGEMAKER_SUBMIT_DIRECTORY` points there. The repacked archive is kept under a key
of what went into it (the model object's ETag, the handler's files), so a repeated
deployment repacks nothing.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ...files import pack_folder_tar_gz, relative_files, tree_digest
from ..base import StepFailed
from .uploads import split_s3_uri

if TYPE_CHECKING:
    from .client import AwsClient

REPACKED_FRAMEWORKS = frozenset({"pytorch", "tensorflow"})
CODE_DIR = "/opt/ml/model/code"
TF_HANDLER = "inference.py"  # the one name TF Serving's container looks for in code/


def repack_model(client: AwsClient, bucket: str, prefix: str, model_uri: str, handler: Path, framework: str) -> str:
    """The s3:// URI of `model_uri`'s archive with `handler`'s folder as its `code/`; built once per content."""
    source_bucket, source_key = split_s3_uri(model_uri)
    listed = [o for o in client.list_objects(source_bucket, source_key) if o["Key"] == source_key]
    if not listed:
        raise StepFailed(f"model {model_uri} does not exist.", "Train the model first, or fix the step's `model:`.")
    code = relative_files(handler.parent)
    digest = hashlib.sha256(
        f"{model_uri}\0{listed[0].get('ETag', '')}\0{framework}\0{handler.name}\0{tree_digest(code)}".encode()
    ).hexdigest()
    key = f"{prefix.strip('/')}/models/sha256/{digest}/model.tar.gz"
    if client.list_objects(bucket, key):
        return f"s3://{bucket}/{key}"
    with tempfile.TemporaryDirectory(prefix="orchestrator-repack-") as scratch:
        work = Path(scratch)
        client.download_file(source_bucket, source_key, str(work / "model.tar.gz"))
        model = work / "model"
        _extract(work / "model.tar.gz", model)
        shutil.rmtree(model / "code", ignore_errors=True)  # the handler of this step replaces any earlier one
        for name, path in code:
            (model / "code" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, model / "code" / name)
        if framework == "tensorflow" and handler.name != TF_HANDLER:
            shutil.copyfile(handler, model / "code" / TF_HANDLER)
        with (work / "repacked.tar.gz").open("wb") as out:
            pack_folder_tar_gz(model, out)
        client.upload_file(str(work / "repacked.tar.gz"), bucket, key)
    return f"s3://{bucket}/{key}"


def _extract(archive: Path, into: Path) -> None:
    import tarfile

    into.mkdir()
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")  # no absolute paths, no links out of the folder
    except (tarfile.TarError, OSError) as exc:
        raise StepFailed(f"the model archive could not be repacked: {exc}", "A model must be a .tar.gz.") from exc
