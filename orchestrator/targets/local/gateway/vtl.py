"""API Gateway's mapping-template variables over airspeed-ext, with compiled templates cached.

`$input` (body, json, path, params), `$util` (escapeJavaScript, parseJson, urlEncode,
urlDecode, base64Encode, base64Decode), `$context` (with `responseOverride`) and
`$stageVariables`, as the reference defines them:
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import airspeed

_TEMPLATES: dict[str, airspeed.Template] = {}
_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


class TemplateError(Exception):
    """A template that does not parse or render: the integration fails, as on AWS (500)."""


def compiled(text: str) -> airspeed.Template:
    """The template for `text`, parsed once per process (documents repeat the same few)."""
    template = _TEMPLATES.get(text)
    if template is None:
        template = _TEMPLATES[text] = airspeed.Template(text)
    return template


def json_path(document: Any, path: str) -> Any:
    """The value at a JSONPath of the simple kind templates use: `$`, `$.a.b`, `$.a[0]`, `$['a']`."""
    if not path.startswith("$"):
        raise TemplateError(f"JSONPath must start with $: {path!r}")
    value, rest = document, path[1:]
    while rest:
        match = _STEP.match(rest)
        if match is None:
            raise TemplateError(f"unsupported JSONPath {path!r}")
        name, index, quoted, dquoted = match.groups()
        key = name or quoted or dquoted
        try:
            value = value[int(index)] if index is not None else value[key]
        except (KeyError, IndexError, TypeError):
            return None
        rest = rest[match.end() :]
    return value


class Input:
    """`$input`: the payload and the method request's parameters."""

    def __init__(self, body: str, params: dict[str, dict[str, str]]):
        self.body = body
        self._params = params
        self._parsed: Any = ...

    def _document(self) -> Any:
        if self._parsed is ...:
            try:
                self._parsed = json.loads(self.body) if self.body else {}
            except ValueError as exc:
                raise TemplateError(f"$input.json on a body that is not JSON: {exc}") from exc
        return self._parsed

    def json(self, path: str) -> str:
        return json.dumps(json_path(self._document(), path))

    def path(self, path: str) -> Any:
        return json_path(self._document(), path)

    def params(self, name: str | None = None) -> Any:
        if name is None:
            return self._params
        for kind in ("path", "querystring", "header"):
            if name in self._params[kind]:
                return self._params[kind][name]
        return ""


class Util:
    """`$util`."""

    @staticmethod
    def escapeJavaScript(text: Any) -> str:
        return json.dumps(str(text))[1:-1].replace("'", "\\'")

    @staticmethod
    def parseJson(text: str) -> Any:
        return json.loads(text)

    @staticmethod
    def urlEncode(text: str) -> str:
        return quote_plus(str(text))

    @staticmethod
    def urlDecode(text: str) -> str:
        return unquote_plus(str(text))

    @staticmethod
    def base64Encode(text: Any) -> str:
        data = text if isinstance(text, bytes) else str(text).encode()
        return base64.b64encode(data).decode("ascii")

    @staticmethod
    def base64Decode(text: str) -> str:
        return base64.b64decode(text).decode("utf-8", errors="replace")


UTIL = Util()


def render(text: str, body: str, params: dict[str, dict[str, str]], context: dict, stage_variables: dict) -> str:
    """Render one mapping template; `context` is changed in place (`responseOverride`)."""
    namespace = {"input": Input(body, params), "util": UTIL, "context": context, "stageVariables": stage_variables}
    try:
        return compiled(text).merge(namespace)
    except TemplateError:
        raise
    except Exception as exc:  # airspeed's parse and render errors, a template's failing call
        raise TemplateError(f"{type(exc).__name__}: {exc}") from exc
