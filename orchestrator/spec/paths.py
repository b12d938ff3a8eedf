"""What is wrong with a path a spec names: first its text, then what the file system says.

The text is judged before any file system call, so a name no file system could hold
(a segment over 255 bytes, a path over 4096) is a located problem, not an OSError.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..diagnostics import did_you_mean
from .refs import ANY_REF
from .text import shown

NAME_MAX = 255  # bytes in one file name (Linux, macOS, and S3 website key segments alike)
PATH_MAX = 4096  # bytes in a whole path (Linux)
REF_OR_ENV = re.compile(r"\$\{")

Problem = tuple[str, str | None]  # (message, hint)


def text_problem(value: str, what: str = "path") -> Problem | None:
    """A path no file system can hold, judged from its text alone."""
    size = len(value.encode("utf-8", errors="surrogatepass"))
    if size > PATH_MAX:
        return (f"{what} '{shown(value)}' is {size} bytes long; paths have at most {PATH_MAX}", "use a shorter path")
    longest = max(value.split("/"), key=lambda part: len(part.encode("utf-8", errors="surrogatepass")))
    size = len(longest.encode("utf-8", errors="surrogatepass"))
    if size > NAME_MAX:
        return (
            f"{what} '{shown(value)}' has a name of {size} bytes; a file or folder name has at most {NAME_MAX}",
            "use shorter names",
        )
    return None


def inside(root: Path, value: str) -> Path | None:
    """`value` resolved against the project folder, or None when it leaves it."""
    resolved = (root / value).resolve()
    return resolved if resolved == root or root in resolved.parents else None


# S3's rules for new bucket names (docs: "Bucket naming rules"), without the dotted-IP ban:
# 3-63 of a-z 0-9 . -, a letter or digit at each end. The local S3 holds its buckets to it too.
_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
BUCKET_NAME = re.compile(f"^{_BUCKET}$")
S3_URI = re.compile(f"^s3://{_BUCKET}(/.*)?$", re.DOTALL)  # s3://BUCKET[/KEY]


def s3_uri_problem(value: str) -> Problem | None:
    """What is wrong with an s3:// value as written, or None (a ${...} in it is resolved later)."""
    if ANY_REF.search(value) or S3_URI.match(value):
        return None
    return (
        f"'{shown(value)}' names no valid S3 bucket",
        "write s3://BUCKET/KEY; bucket names are 3-63 lowercase letters, digits, dots and hyphens",
    )


def path_problems(root: Path, value: str, kind: str) -> Iterator[Problem]:
    """What is wrong with one path as written: (message, hint) pairs."""
    if value.startswith("s3://"):
        problem = s3_uri_problem(value)
        if problem:
            yield problem
        return
    if "://" in value:
        if value.startswith(("file://", "http://", "https://")):
            yield (f"'{shown(value)}' must be a path relative to the spec or an s3:// URI", None)
        return
    problem = text_problem(value)
    if problem:
        yield problem
        return
    if ANY_REF.search(value):
        return  # another step's output: known only when the run resolves it
    try:
        yield from _on_disk(root, value, kind)
    except OSError as exc:  # the project folder's own path plus this one may still be too long
        yield (f"cannot check '{shown(value)}': {exc.strerror or exc}", "use a shorter path")


def _on_disk(root: Path, value: str, kind: str) -> Iterator[Problem]:
    candidate = Path(value)
    if candidate.is_absolute():
        yield (f"'{shown(value)}' is an absolute path", "use a path relative to the spec's folder")
        return
    resolved = inside(root, value)
    if resolved is None:
        yield (
            f"'{shown(value)}' is outside the project folder",
            "keep the pipeline's files beside the spec, so a plan is reproducible",
        )
        return
    if not resolved.exists():
        parent = resolved.parent
        names = [c.name for c in parent.iterdir()] if parent.is_dir() else []
        hint = did_you_mean(resolved.name, names)
        yield (f"'{shown(value)}' does not exist", hint)
    elif kind == "file" and not resolved.is_file():
        yield (f"'{shown(value)}' is not a file", None)
    elif kind == "dir" and not resolved.is_dir():
        yield (f"'{shown(value)}' is not a folder", None)
