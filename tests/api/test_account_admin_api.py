"""Admins manage accounts over the API of a real server, and the agent's open sockets close at once (4401, with a
``session_ended`` frame); a login that expires closes its socket too. The server re-checks sockets only every 30 s
(the default), so a close within seconds is the bus event's doing, or the expiry's."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from websockets.sync.client import connect

from bot.store.db import make_engine
from bot.store.models import AgentSession, utcnow
from bot.store.tokens import hash_token
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts
from tests.api.wsclient import agent_ws_url, open_agent_socket, still_open, until_closed
from tests.servers import LiveServer, start_server, stop_server

PASSWORD = "correct horse battery"
NEW_PASSWORD = "another horse entirely"
AT_ONCE_S = 10  # well under HELPLINE_SESSION_CHECK_SECONDS (30): only the bus event closes a socket this soon


@dataclass
class Api:
    server: LiveServer
    store: TranscriptStore

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.request(method, self.server.url + path, headers=headers, timeout=30, **kwargs)

    def login(self, name: str, password: str = PASSWORD) -> str:
        response = self.call("POST", "/api/auth/login", json={"name": name, "password": password})
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token


@pytest.fixture(scope="module")
def api(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A server of our own with admin Ada and agents Maya, Sam and Kim."""
    workdir = tmp_path_factory.mktemp("account-admin")
    server = start_server(demo_data_dir, f"sqlite:///{workdir / 'helpline.db'}", workdir / "server.log")
    engine = make_engine(server.database_url)
    accounts = Accounts(TranscriptStore(engine))
    accounts.add_agent("root", PASSWORD, "admin", "Ada")
    for name in ("maya", "sam", "kim"):
        accounts.add_agent(name, PASSWORD, "agent", name.capitalize())
    yield Api(server, TranscriptStore(engine))
    stop_server(server)
    engine.dispose()


@pytest.fixture(scope="module")
def root(api: Api) -> str:
    return api.login("root")


def assert_session_ended(closed: tuple[int | None, list[dict[str, Any]]]) -> None:
    code, frames = closed
    assert code == 4401, (code, frames)
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "session_ended", frames


def test_a_disabled_agent_is_closed_out_at_once_and_cannot_log_in(api: Api, root: str) -> None:
    maya, sams = api.login("maya"), api.login("sam")
    with open_agent_socket(api.server.url, maya) as maya_ws, open_agent_socket(api.server.url, sams) as sam_ws:
        disabled = api.call("POST", "/api/admin/agents/maya/disable", root)

        assert disabled.status_code == 200, disabled.text
        assert disabled.json()["agent"]["disabled"] is True and disabled.json()["revoked"] == 1
        assert_session_ended(until_closed(maya_ws, AT_ONCE_S))
        assert still_open(sam_ws)  # another agent's socket is left alone
    assert api.call("GET", "/api/agent/me", maya).status_code == 401
    refused = api.call("POST", "/api/auth/login", json={"name": "maya", "password": PASSWORD})
    assert refused.status_code == 401 and refused.json() == {"detail": "wrong name or password"}
    with connect(agent_ws_url(api.server.url), additional_headers={"Authorization": f"Bearer {maya}"}) as again:
        code, frames = until_closed(again, AT_ONCE_S)  # no new socket either
    assert code == 4401 and [f["code"] for f in frames] == ["unauthorized"]
    listed = {a["name"]: a for a in api.call("GET", "/api/admin/agents", root).json()}
    assert listed["maya"]["disabled"] is True and listed["sam"]["disabled"] is False

    enabled = api.call("POST", "/api/admin/agents/maya/enable", root)
    assert enabled.status_code == 200 and enabled.json() == {**disabled.json(), "agent": {
        **disabled.json()["agent"], "disabled": False}, "revoked": 0}
    assert api.call("GET", "/api/agent/me", maya).status_code == 401  # the old session stays ended
    assert api.call("GET", "/api/agent/me", api.login("maya")).json()["name"] == "maya"


def test_a_reset_password_ends_the_old_sessions_and_the_new_one_works(api: Api, root: str) -> None:
    old = api.login("kim")
    with open_agent_socket(api.server.url, old) as kim_ws:
        short = api.call("PUT", "/api/admin/agents/kim/password", root, json={"password": "short"})
        assert short.status_code == 422
        assert still_open(kim_ws) and api.call("GET", "/api/agent/me", old).status_code == 200

        reset = api.call("PUT", "/api/admin/agents/kim/password", root, json={"password": NEW_PASSWORD})

        assert reset.status_code == 200, reset.text
        assert reset.json()["revoked"] == 1 and reset.json()["agent"]["name"] == "kim"
        assert_session_ended(until_closed(kim_ws, AT_ONCE_S))
    assert api.call("GET", "/api/agent/me", old).status_code == 401
    assert api.call("POST", "/api/auth/login", json={"name": "kim", "password": PASSWORD}).status_code == 401
    new = api.login("kim", NEW_PASSWORD)
    with open_agent_socket(api.server.url, new) as kim_ws:
        assert still_open(kim_ws)
    log = api.server.log.read_text()
    assert "account change: admin 'root' reset the password of agent 'kim'; 1 session ended" in log
    assert NEW_PASSWORD not in log


def test_revoked_sessions_close_their_sockets_and_their_tokens_get_401(api: Api, root: str) -> None:
    tokens = [api.login("sam"), api.login("sam")]
    listed = api.call("GET", "/api/admin/agents/sam/sessions", root)
    assert listed.status_code == 200
    sessions = listed.json()
    assert len(sessions) >= 2 and all(set(s) == {"created_at", "expires_at"} for s in sessions)
    assert not any(t in listed.text or hash_token(t) in listed.text for t in tokens)
    sockets = [open_agent_socket(api.server.url, token) for token in tokens]

    revoked = api.call("DELETE", "/api/admin/agents/sam/sessions", root)

    assert revoked.status_code == 200 and revoked.json()["revoked"] == len(sessions)
    for ws in sockets:
        assert_session_ended(until_closed(ws, AT_ONCE_S))
    for token in tokens:  # the HTTP API refuses a revoked token too
        assert api.call("GET", "/api/agent/me", token).status_code == 401
        assert api.call("GET", "/api/agent/conversations", token).status_code == 401
    assert api.call("GET", "/api/admin/agents/sam/sessions", root).json() == []
    assert api.call("GET", "/api/agent/me", api.login("sam")).status_code == 200  # revoked is not disabled


def test_an_admin_cannot_disable_themselves_and_unknown_names_are_404(api: Api, root: str) -> None:
    with open_agent_socket(api.server.url, root) as root_ws:
        own = api.call("POST", "/api/admin/agents/root/disable", root)
        assert own.status_code == 409 and "your own account" in own.json()["detail"]
        assert still_open(root_ws)
    for method, path, body in (
        ("POST", "/api/admin/agents/nobody/disable", None),
        ("POST", "/api/admin/agents/nobody/enable", None),
        ("PUT", "/api/admin/agents/nobody/password", {"password": NEW_PASSWORD}),
        ("GET", "/api/admin/agents/nobody/sessions", None),
        ("DELETE", "/api/admin/agents/nobody/sessions", None),
    ):
        response = api.call(method, path, root, json=body)
        assert response.status_code == 404 and response.json() == {"detail": "no agent named 'nobody'"}, path


def test_a_cookie_carried_admin_change_needs_the_console_origin(api: Api) -> None:
    cookie = {"Cookie": f"helpline_session={api.login('root')}"}
    foreign = api.call("DELETE", "/api/admin/agents/kim/sessions", headers={**cookie, "Origin": "https://evil.example"})
    assert foreign.status_code == 403
    own = api.call("DELETE", "/api/admin/agents/kim/sessions", headers={**cookie, "Origin": api.server.url})
    assert own.status_code == 200, own.text


def test_an_expired_login_closes_its_socket_at_the_expiry(api: Api) -> None:
    token = api.login("maya")
    expires = utcnow() + timedelta(seconds=4)
    with api.store.session() as session, session.begin():
        session.execute(update(AgentSession).where(AgentSession.token_hash == hash_token(token))
                        .values(expires_at=expires))
    with open_agent_socket(api.server.url, token) as ws:
        assert still_open(ws)
        assert_session_ended(until_closed(ws, 15))  # the periodic check would come only after 30 s
        assert utcnow() >= expires
    assert api.call("GET", "/api/agent/me", token).status_code == 401


def test_agents_may_not_manage_accounts(api: Api) -> None:
    sam = api.login("sam")
    for method, path in (("POST", "/api/admin/agents/maya/disable"), ("PUT", "/api/admin/agents/maya/password"),
                         ("DELETE", "/api/admin/agents/maya/sessions"), ("GET", "/api/admin/agents/maya/sessions")):
        response = api.call(method, path, sam, json={"password": NEW_PASSWORD})
        assert response.status_code == 403, (path, response.text)
    maya = api.login("maya")
    assert api.call("GET", "/api/agent/me", maya).status_code == 200
    assert api.call("POST", "/api/auth/login", json={"name": "maya", "password": PASSWORD}).status_code == 200
