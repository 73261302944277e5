"""One blocking JSON POST with a timeout (stdlib http.client), and how its outcome maps to a delivery result.

http.client rather than urllib: urllib follows redirects by turning a POST into a GET, which would lose
the alarm silently. A redirect here is a misconfigured URL and is reported as such.
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.notifications.errors import NotificationConfigError

_BODY_EXCERPT = 300
# Worth retrying: the receiver is busy, overloaded or briefly broken. Other 4xx mean our request is wrong.
_RETRYABLE_STATUS = frozenset({408, 425, 429})


@dataclass(frozen=True)
class HttpOutcome:
    """What the receiver answered: status code and the start of the body (for error text)."""

    status: int
    body: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        return self.status in _RETRYABLE_STATUS or self.status >= 500


def check_http_url(url: str, what: str) -> str:
    """Return `url` if it is an absolute http(s) URL with a host; NotificationConfigError otherwise."""
    if not isinstance(url, str):
        raise NotificationConfigError(f"{what}: URL must be a string, got {url!r}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotificationConfigError(f"{what}: {url!r} is not an absolute http:// or https:// URL")
    return url


def post_json(url: str, payload: dict, timeout_s: float, headers: dict[str, str] | None = None,
              ssl_context: ssl.SSLContext | None = None) -> HttpOutcome:
    """POST `payload` as JSON and return the answer. Raises OSError (refused, timeout, TLS) on no answer."""
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout_s, context=ssl_context or ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    all_headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "GridRoom-notifications",
                   "Content-Length": str(len(body))}
    all_headers.update(headers or {})
    try:
        conn.request("POST", path, body=body, headers=all_headers)
        response = conn.getresponse()
        text = response.read(_BODY_EXCERPT).decode("utf-8", "replace")
        return HttpOutcome(response.status, text)
    except http.client.HTTPException as exc:
        # A garbled answer counts as no answer: the receiver may not have taken the message.
        raise OSError(f"bad HTTP answer: {exc!r}") from exc
    finally:
        conn.close()
