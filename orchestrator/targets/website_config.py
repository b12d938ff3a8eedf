"""The config file written beside a website's page, so the page needs no hand editing.

Both the local website and the S3 website (Pulumi program) write it with this
function, so a page reads its settings the same way everywhere:
`config.js` sets `window.APP_CONFIG = {...};`, `config.json` holds the object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

GLOBAL_NAME = "APP_CONFIG"


def render_config(config: Mapping[str, object], filename: str) -> tuple[bytes, str]:
    """Return the file's bytes and its content type."""
    body = json.dumps(dict(config), indent=2, sort_keys=True, ensure_ascii=False)
    if filename.endswith(".json"):
        return (body + "\n").encode("utf-8"), "application/json"
    # `</` cannot end a <script> early when the file is inlined by hand.
    body = body.replace("</", "<\\/")
    return f"window.{GLOBAL_NAME} = {body};\n".encode(), "application/javascript"
