"""One batch transform job's model server: `python -m orchestrator.targets.local.transform.runner CONFIG`.

It runs as an endpoint's container does (its environment, its own process group, the model
loaded by the serving code with the user's handlers), and feeds it the job's requests:
each input object cut into mini-batches (batches.py), each answer written to the object's
`.out` file. One JSON line per finished object on stdout; a failure is one line on stderr
and exit status 1, which fails the job. It dies with the command that started it (even a
`kill -9` of it): the next run starts the job again in a fresh folder, so one job's answers
come from one process.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from .batches import PayloadTooLarge, assemble, mini_batches, records


def transform_object(model, source: Path, target: Path, config: dict) -> dict:
    from ..serving.inference import InvocationContext

    items = records(source.read_bytes(), config["split_type"])
    target.parent.mkdir(parents=True, exist_ok=True)
    requests = 0

    def answers():
        nonlocal requests
        for body in mini_batches(items, config["strategy"], config["max_payload_mb"]):
            requests += 1
            answer, _ = model.invoke(body, config["content_type"], config["accept"], InvocationContext())
            yield answer

    with target.open("wb") as out:
        for chunk in assemble(answers(), config["assemble_with"]):
            out.write(chunk)
    return {"records": len(items), "requests": requests}


PARENT_CHECK_S = 0.2


def die_with_parent() -> None:
    """Exit at once when the process that started the job is gone (it was killed)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    die_with_parent()
    config = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    from ..serving.inference import InvocationError, ModelLoadError, load_model

    try:
        inference = Path(config["inference"]) if config["inference"] else None
        model = load_model(Path(config["model_dir"]), inference, config["framework"])
    except ModelLoadError as exc:
        print(f"the model could not be loaded: {exc}", file=sys.stderr)
        return 1
    for item in config["objects"]:
        try:
            counts = transform_object(model, Path(item["source"]), Path(item["target"]), config)
        except PayloadTooLarge as exc:
            print(f"{item['key']}: {exc}", file=sys.stderr)
            return 1
        except InvocationError as exc:
            print(f"{item['key']}: the model answered {exc.status}: {exc}", file=sys.stderr)
            return 1
        print(json.dumps({"transformed": item["key"], **counts}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
