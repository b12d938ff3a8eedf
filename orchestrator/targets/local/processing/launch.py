"""Runs a processing script as if in its container: `/opt/ml/...` is the job's folder.

A Processing container's script reads `/opt/ml/processing/input/<name>` and writes
`/opt/ml/processing/output/<name>` by those literal paths; there is no variable to
read them from. Without a container, this program (standard library only, run by
file path) maps that prefix onto the job's folder for the script's file calls
(`open`, `os`, `pathlib`, `shutil`, `glob`, and libraries built on them), then runs
the script as `__main__` with its arguments. Extension modules that open files in C
and child processes the script starts see the real paths.
"""

import builtins
import functools
import io
import os
import sys
import types

CONTAINER_ROOT = "/opt/ml"
ROOT_VARIABLE = "ORCHESTRATOR_LOCAL_OPT_ML"
ONE_PATH = ("open", "stat", "lstat", "listdir", "scandir", "mkdir", "rmdir", "remove", "unlink", "access", "chmod",
            "lchmod", "chown", "lchown", "utime", "chdir", "readlink", "truncate", "statvfs", "pathconf", "chflags",
            "listxattr", "getxattr", "setxattr", "removexattr", "mkfifo", "mknod")  # fmt: skip
TWO_PATHS = ("rename", "replace", "link", "symlink")


def mapped(path, root):
    """The job-folder path for a container path; anything else unchanged."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if isinstance(path, str) and (path == CONTAINER_ROOT or path.startswith(CONTAINER_ROOT + "/")):
        return root + path[len(CONTAINER_ROOT) :]
    if isinstance(path, bytes) and (path == CONTAINER_ROOT.encode() or path.startswith(CONTAINER_ROOT.encode() + b"/")):
        return os.fsencode(root) + path[len(CONTAINER_ROOT) :]
    return path


def _one(call, root):
    @functools.wraps(call)
    def wrapper(path=None, *args, **kwargs):
        if path is None:
            for key in ("file", "path"):  # open(file=...), os.stat(path=...)
                if key in kwargs:
                    kwargs[key] = mapped(kwargs[key], root)
            return call(*args, **kwargs)
        return call(mapped(path, root), *args, **kwargs)

    return wrapper


def _two(call, root):
    @functools.wraps(call)
    def wrapper(src, dst, *args, **kwargs):
        return call(mapped(src, root), mapped(dst, root), *args, **kwargs)

    return wrapper


def install(root):
    opener = _one(builtins.open, root)
    builtins.open = io.open = opener
    for name in ONE_PATH:
        if hasattr(os, name):
            setattr(os, name, _one(getattr(os, name), root))
    for name in TWO_PATHS:
        if hasattr(os, name):
            setattr(os, name, _two(getattr(os, name), root))


def main():
    root = os.environ.pop(ROOT_VARIABLE)
    script, *arguments = sys.argv[1:]
    install(root)
    sys.argv = [script, *arguments]
    sys.path[0] = os.path.dirname(mapped(script, root))
    main_module = types.ModuleType("__main__")
    main_module.__file__ = script  # the container path, as the script would see it in its container
    main_module.__builtins__ = builtins
    sys.modules["__main__"] = main_module
    with open(script, "rb") as source:
        code = compile(source.read(), script, "exec")
    exec(code, main_module.__dict__)


if __name__ == "__main__":
    main()
