"""The action server a Rasa project calls: ``action_endpoint`` of ``endpoints.yml``, read as Rasa reads it.

Rasa's ``EndpointConfig`` takes ``url``, ``headers``, ``basic_auth`` (``username``, ``password``) and
``token`` (sent as the ``token`` query parameter), and fills ``${VARIABLE}`` from the environment when it
starts, refusing one that is not set. The environment is passed in (``env``): only the settings and the
entry point read it, and the importer keeps the ``${…}`` as written, so no secret lands in a company folder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.rasa.files import Located, RasaFileError, plain, read_mapping

# A chat turn waits on the action; Rasa's 300 s default would hold a customer's reply for five minutes.
DEFAULT_TIMEOUT_S = 10.0
KNOWN_KEYS = frozenset({"url", "headers", "basic_auth", "token", "timeout"})
_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class InvalidEndpoint(ValueError):
    """An action endpoint Helpline cannot call (a URL that is not http(s) with a host, a bad option)."""


@dataclass(frozen=True)
class ActionEndpoint:
    """Where and how to call a team's action server."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    basic_auth: tuple[str, str] | None = None  # (username, password)
    token: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        check_url(self.url)
        if self.timeout_s <= 0:
            raise InvalidEndpoint(f"timeout must be positive, got {self.timeout_s}")


def check_url(url: str) -> None:
    """Raise ``InvalidEndpoint`` unless ``url`` is http or https with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidEndpoint(f"action endpoint url {url!r} is not an http(s) URL with a host")


def expand(value: str, env: Mapping[str, str]) -> str:
    """``${NAME}`` replaced from ``env``, as Rasa does; one that is not set is an error naming it."""
    missing = [name for name in _VARIABLE.findall(value) if name not in env]
    if missing:
        raise InvalidEndpoint(f"{value!r} needs the environment variable(s) {', '.join(missing)}, which are not set")
    return _VARIABLE.sub(lambda match: env[match.group(1)], value)


def uses_variables(value: Any) -> bool:
    """Whether a config value (or anything inside it) is filled from the environment."""
    if isinstance(value, dict):
        return any(uses_variables(item) for item in value.values())
    if isinstance(value, list):
        return any(uses_variables(item) for item in value)
    return isinstance(value, str) and bool(_VARIABLE.search(value))


def action_endpoint_config(path: Path, shown: str = "endpoints.yml") -> Located | None:
    """The ``action_endpoint`` section of an endpoints file as written (``${…}`` kept); None when there is none."""
    section = read_mapping(path, shown).get("action_endpoint")
    if section is None:
        return None
    if not isinstance(section, Located):
        raise RasaFileError(shown, 1, "action_endpoint must be a mapping with a url")
    return section


def load_action_endpoint(path: Path, env: Mapping[str, str], shown: str = "endpoints.yml") -> ActionEndpoint | None:
    """The action endpoint of ``path`` with its variables filled from ``env``; None when the file names none."""
    section = action_endpoint_config(path, shown)
    return None if section is None else endpoint_from_config(section, env)


def endpoint_from_config(section: Located, env: Mapping[str, str]) -> ActionEndpoint:
    """An ``ActionEndpoint`` from an ``action_endpoint`` mapping; errors name its file and line."""
    try:
        return _endpoint(plain(section), env)
    except InvalidEndpoint as exc:
        raise section.error(str(exc)) from exc


def _endpoint(config: dict[str, Any], env: Mapping[str, str]) -> ActionEndpoint:
    def text(value: Any, what: str) -> str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise InvalidEndpoint(f"{what} must be a string")
        return expand(str(value), env)

    url = config.get("url")
    if url is None:
        raise InvalidEndpoint("action_endpoint has no url")
    headers = config.get("headers") or {}
    if not isinstance(headers, dict):
        raise InvalidEndpoint("headers must be a mapping of header names to values")
    auth = config.get("basic_auth")
    basic_auth = None
    if auth is not None:
        if not isinstance(auth, dict) or "username" not in auth or "password" not in auth:
            raise InvalidEndpoint("basic_auth needs a username and a password")
        basic_auth = (text(auth["username"], "basic_auth username"), text(auth["password"], "basic_auth password"))
    token = config.get("token")
    timeout = config.get("timeout", DEFAULT_TIMEOUT_S)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool):
        raise InvalidEndpoint(f"timeout must be a number of seconds, got {timeout!r}")
    return ActionEndpoint(
        url=text(url, "url"),
        headers={str(name): text(value, f"header {name}") for name, value in headers.items()},
        basic_auth=basic_auth,
        token=None if token is None else text(token, "token"),
        timeout_s=float(timeout),
    )
