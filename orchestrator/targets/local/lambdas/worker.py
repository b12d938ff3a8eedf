"""One Lambda execution environment: imports the handler once, then answers invocations.

Run as a plain script (`python -P worker.py ...`) so nothing of the orchestrator
is imported into the user's function. Frames on stdin/stdout are a 4-byte big-endian
length and a JSON document; the handler's own prints go to stderr (the daemon log).
"""

import importlib.util
import json
import os
import struct
import sys
import time
import traceback

ACCOUNT = "123456789012"


class LambdaContext:
    def __init__(self, function_name, memory_mb, region, request_id, deadline):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d") + "/[$LATEST]local"
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))


def read_frame(stream):
    header = stream.read(4)
    if len(header) < 4:
        return None
    (size,) = struct.unpack(">I", header)
    return json.loads(stream.read(size))


def write_frame(stream, document):
    data = (document if isinstance(document, str) else json.dumps(document)).encode("utf-8")
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


def load_handler(path, function):
    folder = os.path.dirname(path)
    sys.path.insert(0, folder)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    handler = getattr(module, function, None)
    if not callable(handler):
        raise AttributeError(f"Handler '{function}' missing on module '{name}'")
    return handler


def error_frame(exc):
    text = "".join(traceback.format_exception(exc))
    print(text, file=sys.stderr, flush=True)
    return {"ok": False, "errorType": type(exc).__name__, "errorMessage": str(exc)}


def main(argv):
    path, function, function_name, memory_mb, region = argv[1:6]
    frames_in = os.fdopen(os.dup(0), "rb")
    frames_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() in the handler goes to the log, never into the frames
    sys.stdout = os.fdopen(1, "w", buffering=1)
    try:
        handler, init_error = load_handler(path, function), None
    except Exception as exc:  # an init error fails every invocation, as on Lambda
        handler, init_error = None, error_frame(exc)
    write_frame(frames_out, {"ready": True})
    while True:
        request = read_frame(frames_in)
        if request is None:
            return 0
        if init_error is not None:
            write_frame(frames_out, init_error)
            continue
        context = LambdaContext(function_name, int(memory_mb), region, request["requestId"], request["deadline"])
        try:
            reply = json.dumps({"ok": True, "result": handler(request["event"], context)})
        except Exception as exc:  # includes a result that is not JSON (Runtime.MarshalError)
            reply = error_frame(exc)
        write_frame(frames_out, reply)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
