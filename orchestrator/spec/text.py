"""How a spec's own values appear in messages: on one line, and short.

A diagnostic is one `FILE:LINE:COL: ...` line (and a hint); a value quoted in it that
holds a line break or runs to a megabyte would break that line or bury it.
"""

from __future__ import annotations

import json
import re
from typing import Any

# What would end or garble a line of output: line breaks of every kind, and control characters.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_ESCAPES = {"\n": "\\n", "\r": "\\r"}


def shown(value: Any, limit: int = 60) -> str:
    """`value` for a message: control characters escaped, and cut (with its length) when long."""
    text = str(value)
    cut = len(text) > limit
    if cut:
        text = text[:limit]
    text = _UNPRINTABLE.sub(lambda m: _ESCAPES.get(m.group(), f"\\x{ord(m.group()):02x}"), text)
    return f"{text}… ({len(str(value))} characters)" if cut else text


def dumped(value: Any, limit: int = 80) -> str:
    """`value` as JSON for a message (JSON escapes line breaks itself), cut when long."""
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
