"""The refusals of the layers below, answered in one place (``api.errors``): each with the status, words and
headers the API has always given, whichever route it came from; and bodies rendered as they always were."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from bot.learning import catalog
from bot.runtime import Runtime
from bot.settings import Settings
from bot.workspace.accounts import Accounts

PASSWORD = "correct horse battery"


class Agents:
    """A loaded app in this process, with agents Maya and Sam and the admin Ada logged in."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}
        for name in ("maya", "sam", "root"):
            response = client.post("/api/auth/login", json={"name": name, "password": PASSWORD})
            self.tokens[name] = response.json()["token"]

    def call(self, method: str, path: str, who: str = "maya", **kwargs: Any) -> Any:
        return self.client.request(method, path, headers={"Authorization": f"Bearer {self.tokens[who]}"}, **kwargs)

    def refused(self, method: str, path: str, who: str = "maya", **kwargs: Any) -> tuple[int, Any]:
        response = self.call(method, path, who, **kwargs)
        return response.status_code, response.json()["detail"]


@pytest.fixture
def agents(settings: Settings) -> Iterator[Agents]:
    app = create_app(settings)
    runtime: Runtime = app.state.runtime
    with TestClient(app) as client:
        assert client.portal is not None
        assert client.portal.call(runtime.wait_ready, 120) is not None, runtime.error
        assert runtime.store is not None
        accounts = Accounts(runtime.store)
        accounts.add_agent("maya", PASSWORD, "agent", "Maya")
        accounts.add_agent("sam", PASSWORD, "agent", "Sam")
        accounts.add_agent("root", PASSWORD, "admin", "Ada")
        yield Agents(client)


def ask_for_a_person(client: TestClient) -> str:
    """A customer on the real socket who asks for a person; their conversation's id."""
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "start"})
        session = ws.receive_json()
        ws.send_json({"type": "message", "text": "I want to talk to a human", "id": "c1"})
        while ws.receive_json()["type"] not in ("reply.end", "message.received"):
            pass
    return str(session["conversation_id"])


def test_workspace_refusals_keep_their_status_and_words(agents: Agents) -> None:
    conversation = ask_for_a_person(agents.client)
    transcript = agents.call("GET", f"/api/agent/conversations/{conversation}").json()
    customer, bot = (m["id"] for m in transcript["messages"][:2])

    assert agents.refused("GET", "/api/agent/conversations/nope") == (404, "no such conversation")
    assert agents.refused("PUT", "/api/agent/conversations/nope/tags", json={"tags": ["a"]}) == (
        404, "no such conversation")
    assert agents.refused("PUT", "/api/agent/messages/999999/intent", json={"intent": "x"}) == (
        404, "no message 999999")
    assert agents.refused("PUT", f"/api/agent/messages/{bot}/intent", json={"intent": "x"}) == (
        422, f"message {bot} is a bot message, not a customer message")
    assert agents.refused("PUT", f"/api/agent/messages/{customer}/review", json={"verdict": "bad"}) == (
        422, f"message {customer} is a customer message, not a bot message")
    assert agents.refused("POST", f"/api/agent/conversations/{conversation}/notes", json={"text": "  "}) == (
        422, "a note is 1-10000 characters")
    assert agents.refused("GET", "/api/agent/conversations", params={"cursor": "zzz"}) == (422, "invalid cursor")
    assert agents.refused("GET", "/api/agent/conversations", params={"since": "yesterday"}) == (
        422, "not an ISO date: 'yesterday'")
    assert agents.refused("GET", "/api/agent/export", params={"until": "2024-13-01"}) == (
        422, "not an ISO date: '2024-13-01'")


def test_handoff_refusals_keep_their_status_and_words(agents: Agents) -> None:
    base = f"/api/agent/conversations/{ask_for_a_person(agents.client)}"
    assert agents.call("POST", f"{base}/accept").status_code == 200
    assert agents.refused("POST", f"{base}/accept", "sam") == (409, "already claimed by Maya")
    assert agents.refused("POST", f"{base}/messages", "sam", json={"text": "hi"}) == (
        403, "Maya holds this conversation")
    assert agents.call("POST", f"{base}/close").status_code == 200
    assert agents.refused("POST", f"{base}/close") == (409, "the conversation is already closed")
    assert agents.refused("POST", "/api/agent/conversations/nope/accept") == (404, "no such conversation")


def test_faq_and_account_refusals_keep_their_status_and_words(agents: Agents) -> None:
    faq = agents.client.app.state.runtime.settings.faq_dir  # type: ignore[attr-defined]
    before = {path.name: path.read_bytes() for path in faq.rglob("*") if path.is_file()}
    gap = {"question": "Do you sell bikes?", "answer": "No.", "message_ids": []}
    for who in ("maya", "root"):  # an agent's proposal is refused as an admin's entry is
        assert agents.refused("POST", "/api/agent/gaps/faq", who, json={**gap, "question": "  "}) == (
            422, "the question and the answer need some text")
        assert agents.refused("POST", "/api/agent/gaps/faq", who, json={**gap, "message_ids": [10**9]}) == (
            404, f"no message {10**9}")
        assert agents.refused("POST", "/api/agent/gaps/faq", who, json={**gap, "question": "Where is my order?"}) == (
            409, "the FAQ already has an entry with this id or question ('order-status')")
    assert agents.refused("POST", "/api/admin/faq-proposals/999/reject", "root") == (404, "no FAQ proposal 999")
    proposal = agents.call("POST", "/api/agent/gaps/faq", json=gap).json()["id"]
    assert agents.call("POST", f"/api/admin/faq-proposals/{proposal}/reject", "root").status_code == 200
    assert agents.refused("POST", f"/api/admin/faq-proposals/{proposal}/publish", "root") == (
        409, "the proposal was rejected already")
    assert agents.refused("POST", "/api/agent/gaps/intent", json={"intent": "bikes", "message_ids": [10**9]}) == (
        404, f"no message {10**9}")
    assert {path.name: path.read_bytes() for path in faq.rglob("*") if path.is_file()} == before

    taken = {"name": "maya", "password": PASSWORD}
    assert agents.refused("POST", "/api/admin/agents", "root", json=taken) == (
        409, "an agent named 'maya' already exists")
    assert agents.refused("POST", "/api/admin/agents/nobody/disable", "root") == (404, "no agent named 'nobody'")
    assert agents.refused("POST", "/api/admin/agents/root/disable", "root") == (
        409, "you cannot disable your own account; ask another admin")


def test_wrong_logins_are_refused_then_slowed_down(agents: Agents) -> None:
    wrong = {"name": "ghost", "password": "not it"}
    answers = [agents.client.post("/api/auth/login", json=wrong) for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert answers[0].json() == {"detail": "wrong name or password"}
    assert answers[-1].json() == {"detail": "too many failed logins; try again later"}
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 30


def test_bodies_are_rendered_as_before_response_models(agents: Agents) -> None:
    conversation = ask_for_a_person(agents.client)
    store = agents.client.app.state.runtime.store  # type: ignore[attr-defined]
    catalog.register_candidate(store, "20990101-000000-0000", trained_from="base",
                               metrics={"accuracy": 0.97, "loss": 1e-05, "epochs": 3, "per_intent": {"a": 1.0}})
    for path in (f"/api/agent/conversations/{conversation}", "/api/agent/conversations", "/api/agent/models"):
        response = agents.call("GET", path)
        assert response.status_code == 200
        # json.dumps, as FastAPI rendered plain dicts: floats such as 1e-05 keep their spelling
        rendered = json.dumps(response.json(), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        assert response.content == rendered.encode()
    assert b'"metrics":{"accuracy":0.97,"loss":1e-05,"epochs":3}' in agents.call("GET", "/api/agent/models").content
    confidence = agents.call("GET", f"/api/agent/conversations/{conversation}").json()["messages"][0]["confidence"]
    assert isinstance(confidence, float)


def test_what_no_database_could_take_is_refused_before_it_is_asked(agents: Agents) -> None:
    conversation = ask_for_a_person(agents.client)
    unstorable = [  # a NUL character (PostgreSQL refuses it) or a lone surrogate (no database can encode it)
        ("PUT", f"/api/agent/conversations/{conversation}/tags", {"json": {"tags": ["ok", "n\x00l"]}},
         ["body", "tags", 1]),
        ("POST", f"/api/agent/conversations/{conversation}/notes",
         {"content": '{"text": "half \\udc00 a pair"}', "headers": {"Content-Type": "application/json"}},
         ["body", "text"]),
        ("GET", "/api/agent/conversations", {"params": {"q": "a\x00b"}}, ["query", "q"]),
        ("GET", "/api/agent/conversations/c0ffee%00", {}, ["path", "conversation_id"]),
        ("POST", "/api/auth/login", {"json": {"name": "ma\x00ya", "password": PASSWORD}}, ["body", "name"]),
    ]
    for method, path, kwargs, loc in unstorable:
        headers = {"Authorization": f"Bearer {agents.tokens['maya']}", **kwargs.pop("headers", {})}
        response = agents.client.request(method, path, headers=headers, **kwargs)
        assert response.status_code == 422, (method, path, response.text)
        assert response.json() == {"detail": [{"type": "string_unstorable", "loc": loc,
                                               "msg": "a NUL character or a lone surrogate cannot be stored"}]}
    transcript = agents.call("GET", f"/api/agent/conversations/{conversation}").json()
    assert transcript["conversation"]["tags"] == [] and transcript["notes"] == []

    beyond = 2**31  # no INTEGER id is this big, and PostgreSQL refuses to compare one with it
    for method, path, body, who in [
        ("PUT", f"/api/agent/messages/{beyond}/intent", {"intent": "refunds"}, "maya"),
        ("POST", "/api/agent/gaps/intent", {"intent": "refunds", "message_ids": [1, beyond]}, "maya"),
        ("POST", f"/api/admin/faq-proposals/{beyond}/reject", None, "root"),
        ("PUT", "/api/agent/messages/0/review", {"verdict": "good"}, "maya"),
    ]:
        response = agents.call(method, path, who, json=body)
        assert response.status_code == 422, (method, path, response.text)
        assert isinstance(response.json()["detail"], list)
    blank = {"name": "blank", "password": PASSWORD, "display_name": "   "}  # stored stripped: no name at all
    assert agents.call("POST", "/api/admin/agents", "root", json=blank).status_code == 422


def test_a_wrong_method_is_told_every_method_of_its_path(agents: Agents) -> None:
    # a path with a route per method: Starlette names those of the first route that matched the path
    for method, path, allowed in [("OPTIONS", "/api/admin/agents", "GET, POST"),
                                  ("PATCH", "/api/admin/agents/maya/sessions", "DELETE, GET"),
                                  ("DELETE", "/health", "GET")]:
        response = agents.call(method, path, "root")
        assert response.status_code == 405 and response.json() == {"detail": "Method Not Allowed"}
        assert response.headers["Allow"] == allowed
