"""One Lambda execution environment: imports the handler once, then answers invocations.

A standalone script, never an import of the orchestrator: the pool runs it as
`python -I -S bootstrap.py LAYER...`, so nothing of this machine's site-packages or
environment reaches the function. sys.path is exactly what Lambda gives a function:
the bundle (LAMBDA_TASK_ROOT), then each layer (its requirements, the runtime's
boto3), then the standard library. `_HANDLER` names `module.function`, as on Lambda.

Frames on stdin/stdout are a 4-byte big-endian length and a JSON document; the
handler's own prints go to stderr (the function's log). The pool writes the START,
END and REPORT lines around them, as Lambda's platform does, from the duration and
memory each answer carries: an invocation costs one read and one write here.
"""

import importlib
import json
import os
import resource
import struct
import sys
import time
import traceback

ACCOUNT = "123456789012"
# Synchronous invocations answer at most 6 MB; past it Lambda returns this error instead.
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_RESPONSE = 6_291_556
TOO_LARGE = {
    "ok": False,
    "errorType": "Function.ResponseSizeTooLarge",
    "errorMessage": f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE} bytes).",
}


class LambdaContext:
    def __init__(self, request_id, deadline):
        environ = os.environ
        self.function_name = environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = f"arn:aws:lambda:{environ['AWS_REGION']}:{ACCOUNT}:function:{self.function_name}"
        self.memory_limit_in_mb = int(environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = request_id
        self.log_group_name = environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = environ["AWS_LAMBDA_LOG_STREAM_NAME"]
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


class HandlerError(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type


def load_handler(handler):
    """`module.function` as Lambda's runtime resolves it, with its error types."""
    module_name, _, function = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise HandlerError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from exc
    found = getattr(module, function, None)
    if not callable(found):
        raise HandlerError("AttributeError", f"Handler '{function}' missing on module '{module_name}'")
    return found


def error_frame(exc):
    """Lambda's error document: errorMessage, errorType and the handler's frames as stackTrace
    (this runtime's own call into the handler left out; none for the runtime's own errors).
    https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html"""
    text = "".join(traceback.format_exception(exc))
    print(text, file=sys.stderr, flush=True)
    error_type = getattr(exc, "error_type", type(exc).__name__)
    print(f"[ERROR] {error_type}: {exc}", file=sys.stderr, flush=True)
    frames = [] if isinstance(exc, HandlerError) else traceback.extract_tb(exc.__traceback__)[1:]
    return {
        "ok": False,
        "errorMessage": str(exc),
        "errorType": error_type,
        "stackTrace": traceback.format_list(frames),
    }


def finish(reply, started):
    """The answer with what REPORT says of the invocation; the handler's output is flushed first,
    so the pool has all of it when the answer arrives."""
    sys.stdout.flush()
    sys.stderr.flush()
    used_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return f'{reply[:-1]}, "durationMs": {(time.monotonic() - started) * 1000:.3f}, "maxMemoryMB": {used_mb}}}'


def main(argv):
    sys.path[:0] = [os.environ["LAMBDA_TASK_ROOT"], *argv[1:]]
    sys.argv = [sys.argv[0]]
    frames_in = os.fdopen(os.dup(0), "rb")
    frames_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() in the handler goes to the log, never into the frames
    sys.stdout = os.fdopen(1, "w", buffering=1)
    try:
        handler, init_error = load_handler(os.environ["_HANDLER"]), None
    except Exception as exc:  # an init error fails every invocation, as on Lambda
        handler, init_error = None, error_frame(exc)
    write_frame(frames_out, {"ready": True, "initFailed": init_error is not None})
    while True:
        request = read_frame(frames_in)
        if request is None:
            return 0
        if init_error is not None:
            write_frame(frames_out, init_error)
            continue
        context = LambdaContext(request["requestId"], request["deadline"])
        started = time.monotonic()
        try:
            result = json.dumps(handler(request["event"], context))
            reply = '{"ok": true, "result": ' + result + "}"
            if len(result.encode("utf-8")) > MAX_RESPONSE:
                print(f"[ERROR] {TOO_LARGE['errorType']}: {TOO_LARGE['errorMessage']}", file=sys.stderr, flush=True)
                reply = json.dumps(TOO_LARGE)
        except Exception as exc:  # includes a result that is not JSON (Runtime.MarshalError)
            reply = json.dumps(error_frame(exc))
        write_frame(frames_out, finish(reply, started))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
