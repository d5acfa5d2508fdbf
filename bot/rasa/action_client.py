"""Calling a team's Rasa action server as Rasa does: ``POST`` the action call, read events and responses back.

The request is Rasa's ``RemoteAction._action_call_format``: ``next_action``, ``sender_id``, ``tracker`` (the
tracker's ``current_state``), ``domain`` (always: rasa-sdk 3.21 answers 449 to a call without one unless it has
cached the domain's digest) and ``version``. The endpoint's options are Rasa's ``EndpointConfig``: extra
headers (which win over the JSON content type, as in Rasa), basic auth, and a token sent as the ``token``
query parameter. Failures are named, so the engine can answer the customer whatever happened: a 400 is the
action refusing to run (``ActionRejected``), a 404 an action the server does not know, anything else (5xx,
refused, a timeout, a body that is not an action result) ``ActionServerFailed``.
"""

from __future__ import annotations

import importlib.metadata
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bot.rasa.endpoints import ActionEndpoint
from bot.rasa.tracker import Tracker


def _protocol_version() -> str:
    """The Rasa version the call claims: rasa-sdk warns when its major.minor differs, and we speak its protocol."""
    try:
        return importlib.metadata.version("rasa-sdk")
    except importlib.metadata.PackageNotFoundError:
        return "3.21.0"


RASA_VERSION = _protocol_version()


class ActionCallFailed(RuntimeError):
    """An action could not run; its events (none came back) are not applied."""

    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"action {action}: {message}")
        self.action, self.message = action, message


class ActionRejected(ActionCallFailed):
    """The action server refused to run the action now (HTTP 400, rasa-sdk's ``ActionExecutionRejection``)."""


class ActionNotFound(ActionCallFailed):
    """The action server has no action of that name (HTTP 404)."""


class ActionServerFailed(ActionCallFailed):
    """The action server broke, was unreachable or too slow, or answered something that is not a result."""


@dataclass(frozen=True)
class ActionResult:
    """What one action call gave back, and how long it took."""

    events: list[dict[str, Any]]
    responses: list[dict[str, Any]]
    seconds: float


class ActionServer:
    """One action endpoint; ``domain`` is the domain in Rasa's ``as_dict`` shape, sent with every call."""

    def __init__(self, endpoint: ActionEndpoint, domain: dict[str, Any],
                 client: httpx.AsyncClient | None = None) -> None:
        self.endpoint, self.domain = endpoint, domain
        self._client = client or httpx.AsyncClient()

    async def aclose(self) -> None:
        await self._client.aclose()

    def call_body(self, action: str, tracker: Tracker) -> dict[str, Any]:
        return {"next_action": action, "sender_id": tracker.sender_id, "tracker": tracker.current_state(),
                "domain": self.domain, "version": RASA_VERSION}

    async def run(self, action: str, tracker: Tracker) -> ActionResult:
        """Run ``action`` on the server for this conversation; raises an ``ActionCallFailed`` when it did not."""
        started = time.perf_counter()
        response = await self._request("POST", self.endpoint.url, action, json=self.call_body(action, tracker))
        body = _json(response, action)
        if response.status_code == 400:
            reason = body.get("error") if isinstance(body, dict) else None
            raise ActionRejected(action, str(reason or "rejected by the action server"))
        if response.status_code == 404:
            raise ActionNotFound(action, "the action server has no such action")
        if response.status_code != 200:
            raise ActionServerFailed(action, f"HTTP {response.status_code}: {_excerpt(response)}")
        if body is None:  # rasa-sdk answers null when the action returned nothing
            body = {}
        if not isinstance(body, dict):
            raise ActionServerFailed(action, f"not an action result: {_excerpt(response)}")
        events, responses = body.get("events") or [], body.get("responses") or []
        if not isinstance(events, list) or not isinstance(responses, list) \
                or not all(isinstance(item, dict) for item in [*events, *responses]):
            raise ActionServerFailed(action, f"not an action result: {_excerpt(response)}")
        return ActionResult(events, responses, time.perf_counter() - started)

    async def list_actions(self) -> list[str]:
        """The actions the server offers (rasa-sdk's ``GET /actions``, beside the webhook's URL)."""
        url = self.endpoint.url.rsplit("/", 1)[0] + "/actions"
        response = await self._request("GET", url, "GET /actions")
        listed = _json(response, "GET /actions")
        if response.status_code != 200 or not isinstance(listed, list):
            raise ActionServerFailed("GET /actions", f"HTTP {response.status_code}: {_excerpt(response)}")
        return [item["name"] for item in listed if isinstance(item, dict) and isinstance(item.get("name"), str)]

    async def _request(self, method: str, url: str, action: str, **kwargs: Any) -> httpx.Response:
        endpoint = self.endpoint
        headers = {"Content-Type": "application/json", **endpoint.headers}
        params = {"token": endpoint.token} if endpoint.token else None
        auth = httpx.BasicAuth(*endpoint.basic_auth) if endpoint.basic_auth else None
        try:
            return await self._client.request(method, url, headers=headers, params=params, auth=auth,
                                              timeout=endpoint.timeout_s, **kwargs)
        except httpx.TimeoutException as exc:
            raise ActionServerFailed(action, f"no answer within {endpoint.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise ActionServerFailed(action, f"cannot reach {url}: {type(exc).__name__} {exc}") from exc


def _json(response: httpx.Response, action: str) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError as exc:
        if response.status_code == 200:
            raise ActionServerFailed(action, f"the answer is not JSON: {_excerpt(response)}") from exc
        return None


def _excerpt(response: httpx.Response) -> str:
    return response.text[:200].replace("\n", " ")
