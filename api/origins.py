"""Which web pages may talk to the server: the widget's allowed origins, and same-origin checks for the console.

A browser always names the page's origin in ``Origin`` on a WebSocket handshake and on a POST, so these checks
keep other sites' pages out. A client that is not a browser can send any ``Origin`` it likes: the limits in
``api.throttle`` are what hold it back.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def same_origin(origin: str, host: str | None) -> bool:
    """Whether ``origin`` is the server's own (its host and port are the request's ``Host``)."""
    return host is not None and urlsplit(origin.strip()).netloc.lower() == host.strip().lower()


def widget_origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether a page at ``origin`` may open the customer socket: the server's own pages always, any page when
    ``allowed`` holds ``*``, else those it lists, or (when it lists none) pages on this machine, for the demo."""
    if origin is None:  # not a browser
        return True
    normal = origin.strip().rstrip("/").lower()
    if same_origin(normal, host) or "*" in allowed or normal in allowed:
        return True
    return not allowed and urlsplit(normal).hostname in LOCAL_HOSTS


def cross_site_write(connection: HTTPConnection) -> bool:
    """A state-changing request from another site's page: a method other than GET/HEAD/OPTIONS whose ``Origin``
    (which browsers send with every such request) is missing or not the server's own."""
    method = connection.scope.get("method", "GET")
    if method in SAFE_METHODS:
        return False
    origin = connection.headers.get("origin")
    return origin is None or not same_origin(origin, connection.headers.get("host"))
