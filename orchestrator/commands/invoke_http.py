"""One HTTP exchange for `invoke`: what was answered, and a plain urllib call that returns it.

Standard library only: invoking something on the local target must not import boto3,
and a route is called over plain HTTP on both targets, as a browser or curl would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import OrchestratorError

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Answer:
    """A response as the user sees it: status, headers in the order and case they came, raw body."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


Unreachable = Callable[[str], OrchestratorError]  # what says so when nothing answers (it gets the reason)


def http_call(
    method: str, url: str, body: bytes | None, headers: Mapping[str, str], timeout_s: float, unreachable: Unreachable
) -> Answer:
    """Send one request; any HTTP answer (2xx or not) is an Answer; no answer raises `unreachable(reason)`."""
    import urllib.error  # here, not at the top: the parser and --help import the command table only
    import urllib.request

    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
    # A proxy from the environment must not stand between us and 127.0.0.1.
    local = urlsplit(url).hostname in LOCAL_HOSTS
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({})) if local else urllib.request.build_opener()
    try:
        with opener.open(request, timeout=timeout_s) as response:
            return Answer(response.status, response.reason or "", tuple(response.headers.items()), response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, str(exc.reason or ""), tuple(exc.headers.items()), exc.read())
    except urllib.error.URLError as exc:
        raise unreachable(f"nothing answered at {url} ({_reason(exc.reason)})") from exc
    except TimeoutError as exc:
        raise unreachable(f"{url} did not answer within {timeout_s:g} s") from exc
    except OSError as exc:
        raise unreachable(f"the connection to {url} failed ({_reason(exc)})") from exc


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return "timed out"
    return str(reason)
