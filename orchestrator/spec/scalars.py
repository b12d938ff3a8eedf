"""Which YAML scalars a spec holds, and how each reads: strings, finite numbers, true/false, null.

A spec is JSON-shaped data. Whatever else YAML can express (dates, binary, sets,
application tags such as `!!python/name:...`) has no meaning in a pipeline, and
later stages would stumble on it, so it is refused here with the place it was written.
"""

from __future__ import annotations

import math
import re
import sys
from typing import Any

import yaml

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
TIMESTAMP = "tag:yaml.org,2002:timestamp"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
MERGE = "tag:yaml.org,2002:merge"

# Python refuses to print integers longer than this; no field takes one anywhere near it.
MAX_INT_DIGITS = sys.get_int_max_str_digits() or 4300
_MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10))
# What YAML itself does not allow written raw: C0 controls but tab and line breaks, DEL, C1 but NEL.
# They reach a value only through escapes ("\0", "\x07") and break paths, environments and headers.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")

_NUMBERS = (INT, FLOAT, BOOL, NULL)
_SUPPORTED = "a spec holds strings, numbers, true/false, null, lists and mappings"


class ScalarProblem(Exception):
    """A scalar a spec cannot hold: what it is, and how to write it instead."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


_constructor = yaml.SafeLoader("")  # only its scalar constructors are used
_implicit = yaml.resolver.Resolver()  # what a plain scalar's text reads as


def read_scalar(node: yaml.ScalarNode, key: bool = False) -> Any:
    """The value of a scalar node; raise ScalarProblem for what a spec cannot hold.

    A key becomes text later (`1: x` is the key "1"), so a date or a non-finite
    number is fine there; every other rule holds for keys too.
    """
    tag, text = node.tag, node.value
    if tag == STR:
        return check_text(text)
    if tag in _NUMBERS or (key and tag == TIMESTAMP):
        return _construct(node, key)
    if tag == TIMESTAMP and _implicit.resolve(yaml.ScalarNode, text, (True, False)) == TIMESTAMP:
        raise ScalarProblem(
            f"YAML reads {_shown(text)} as a date, which no field takes", f"quote it to keep it as text: '{text}'"
        )
    if tag in (MERGE, "tag:yaml.org,2002:value") and not node.style and text in ("<<", "="):
        raise ScalarProblem(f"YAML reads a bare '{text}' as a special value", f"quote it to keep it as text: '{text}'")
    raise ScalarProblem(f"the tag '{_tag_name(tag)}' is not supported: {_SUPPORTED}", _tag_hint(tag))


def collection_problem(node: yaml.Node) -> ScalarProblem | None:
    """A mapping or list with an explicit tag (`!!set`, `!!omap`, `!custom`) is refused, like a tagged scalar."""
    mapping = isinstance(node, yaml.MappingNode)
    if node.tag == (MAP if mapping else SEQ):
        return None
    what = "a mapping" if mapping else "a list"
    return ScalarProblem(
        f"the tag '{_tag_name(node.tag)}' is not supported on {what}: {_SUPPORTED}", _tag_hint(node.tag)
    )


def check_text(text: str) -> str:
    m = CONTROL.search(text)
    if m:
        raise ScalarProblem(
            f"the text holds the control character U+{ord(m.group()):04X}",
            "remove the escape (such as \\0 or \\x07) that wrote it",
        )
    return text


def _construct(node: yaml.ScalarNode, key: bool) -> Any:
    text = node.value
    if node.tag in (INT, FLOAT) and len(text) > MAX_INT_DIGITS:
        raise ScalarProblem(
            f"the number {_shown(text)} has {len(text)} characters; numbers have at most {MAX_INT_DIGITS}",
            "quote it if it is text",
        )
    try:  # the constructor's own function: construct_object would keep every node it ever saw
        value = _constructor.yaml_constructors[node.tag](_constructor, node)
    except (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError, OverflowError):
        raise ScalarProblem(
            f"{_shown(text)} is not a valid {_tag_name(node.tag)}", "remove the tag, or fix the value"
        ) from None
    if _too_long(value):
        raise ScalarProblem(
            f"the number {_shown(text)} has more than {MAX_INT_DIGITS} digits", "quote it if it is text"
        )
    if isinstance(value, float) and not math.isfinite(value) and not key:
        raise ScalarProblem(
            f"{_shown(text)} is not a finite number", "no field takes NaN or infinity; quote it if it is text"
        )
    return value


def typed_text(text: str) -> Any:
    """What a value given as text (an environment variable) reads as: a number, true/false, null, or the text.

    Whatever a spec cannot hold as a number stays text, so the field's type decides.
    """
    if len(text) > MAX_INT_DIGITS:
        return text
    try:
        typed = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, ValueError, TypeError, KeyError, AttributeError, OverflowError):
        return text
    if _too_long(typed) or (isinstance(typed, float) and not math.isfinite(typed)):
        return text
    if isinstance(typed, (str, int, float, bool)) or typed is None:
        return typed
    return text


def _too_long(value: Any) -> bool:
    """An integer Python could not print (hex and base-60 forms reach it in few characters)."""
    return isinstance(value, int) and value.bit_length() > _MAX_INT_BITS


def _tag_name(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _tag_hint(tag: str) -> str:
    if "python/" in tag:
        return "a spec is data: Python tags are never run; remove the tag"
    return "remove the tag, or quote the value to keep it as text"


def _shown(text: str, limit: int = 40) -> str:
    """A value for a message: short enough to read, with a mark where it was cut."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
