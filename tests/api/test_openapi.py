"""The HTTP edge as a client sees it: every route's body is in /openapi.json, with how to log in and every
refusal the edge answers; every agent and admin route wants a login, and what needs the bot answers 503 until
the bot is there. Read from the app's own routes, so a route added tomorrow is checked too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import SESSION_COOKIE
from api.openapi import api_routes
from api.schemas.base import Problem
from bot.runtime import Runtime
from bot.settings import Settings
from bot.workspace.accounts import Accounts

PASSWORD = "correct horse battery"
PROTECTED = ("/api/agent", "/api/admin")
# path parameters filled with values no route knows: the refusal must come before any lookup
DUMMY = {"conversation_id": "c0ffee", "message_id": "1", "version": "v1", "name": "plot", "proposal_id": "1"}
BODY_TYPES = ("application/json",)


def requests_to(app: FastAPI, prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(method, url) of every route under ``prefixes``, its path parameters filled with dummies."""
    found = [
        (method, re.sub(r"\{(\w+)\}", lambda m: DUMMY[m.group(1)], route.path))
        for route in api_routes(app) if route.path.startswith(prefixes)
        for method in sorted(route.methods or ())
    ]
    assert len(found) >= 20, found  # the agent API, gaps, models and admin are all there
    return found


@pytest.fixture
def unloaded(tmp_path: Path) -> Iterator[TestClient]:
    """An app whose bot has not started: the server's first moments."""
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'helpline.db'}")
    yield TestClient(create_app(settings))  # no `with`: the lifespan (and so the loading) never runs


@pytest.fixture
def failed(tmp_path: Path) -> Iterator[tuple[TestClient, Runtime]]:
    """An app whose database is up but whose bot failed to load (a data dir with no model or FAQ)."""
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'helpline.db'}")
    app = create_app(settings)
    runtime: Runtime = app.state.runtime
    with TestClient(app) as client:
        assert client.portal is not None
        client.portal.call(runtime.wait_ready, 60)
        assert runtime.store is not None and runtime.engine is None and runtime.error
        Accounts(runtime.store).add_agent("maya", PASSWORD, "agent", "Maya")
        yield client, runtime


def test_every_route_describes_what_it_answers() -> None:
    spec = create_app(Settings(data_dir=Path("unused"))).openapi()
    assert spec["paths"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            success = {code: answer for code, answer in operation["responses"].items() if code.startswith("2")}
            assert success, (method, path)
            if path.startswith(PROTECTED):  # the login the router requires is documented too
                assert "401" in operation["responses"], (method, path)
            for code, answer in success.items():
                content = answer.get("content", {})
                if code == "204":
                    assert not content, (method, path)
                    continue
                assert content, (method, path, code)
                for media, body in content.items():
                    schema = body.get("schema")
                    assert schema, (method, path, media)  # not {}: a JSON body says which keys
                    if media not in BODY_TYPES:
                        assert schema == {"type": "string"}, (method, path, media)  # a file or a stream


def test_every_json_body_names_its_keys() -> None:
    components = create_app(Settings(data_dir=Path("unused"))).openapi()["components"]["schemas"]
    bodies = {name: schema for name, schema in components.items() if name.endswith("Out")}
    assert len(bodies) >= 15
    for name, schema in bodies.items():
        assert schema["properties"] and schema.get("additionalProperties") is False, name


def test_the_schema_says_how_to_log_in_and_what_the_edge_refuses() -> None:
    spec = create_app(Settings(data_dir=Path("unused"))).openapi()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    assert (schemes["session_cookie"]["type"], schemes["session_cookie"]["in"], schemes["session_cookie"]["name"]) \
        == ("apiKey", "cookie", SESSION_COOKIE)
    problem = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses, where = operation["responses"], (method, path)
            protected = path.startswith(PROTECTED)
            assert operation.get("security") == ([{"bearer": []}, {"session_cookie": []}] if protected else None), where
            if protected:  # the login, the database behind it, and the console's cookie from another site
                assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True, where
                assert "503" in responses and ("403" in responses or method == "get"), where
            if path.startswith("/api/admin"):
                assert "403" in responses, where
            if "requestBody" in operation:  # unreadable, over the limit, invalid
                assert {"400", "413", "422"} <= set(responses), where
            for code, answer in responses.items():
                if int(code) >= 400 and (path, code) != ("/health", "503"):  # /health says why it is not ready
                    assert answer["content"] == problem, (where, code)
    login = spec["paths"]["/api/auth/login"]["post"]["responses"]
    assert login["429"]["headers"]["Retry-After"]["required"] is True
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # Problem says both kinds of 422


def test_both_kinds_of_422_are_problems(failed: tuple[TestClient, Runtime]) -> None:
    client, _ = failed
    token = client.post("/api/auth/login", json={"name": "maya", "password": PASSWORD}).json()["token"]
    listed = client.post("/api/auth/login", json={"name": "maya"})  # FastAPI's validation: the fields
    worded = client.get("/api/agent/conversations", params={"since": "yesterday"},  # a refusal: in words
                        headers={"Authorization": f"Bearer {token}"})
    for response in (listed, worded):
        assert response.status_code == 422
        Problem.model_validate(response.json())
    assert listed.json()["detail"][0]["loc"] == ["body", "password"]
    assert worded.json()["detail"] == "not an ISO date: 'yesterday'"


def test_every_agent_and_admin_route_wants_a_login(failed: tuple[TestClient, Runtime]) -> None:
    client, _ = failed
    for method, url in requests_to(client.app, PROTECTED):  # type: ignore[arg-type]
        for headers in ({}, {"Authorization": "Bearer not-a-session"}):
            response = client.request(method, url, headers=headers, json={})
            assert response.status_code == 401, (method, url, response.text)
            assert response.json() == {"detail": "log in as an agent"}
            assert response.headers["WWW-Authenticate"] == "Bearer"


def test_login_and_logout_need_no_login(failed: tuple[TestClient, Runtime]) -> None:
    client, _ = failed
    wrong = client.post("/api/auth/login", json={"name": "maya", "password": "not it"})
    assert wrong.status_code == 401 and wrong.json() == {"detail": "wrong name or password"}
    assert client.post("/api/auth/logout").status_code == 204
    right = client.post("/api/auth/login", json={"name": "maya", "password": PASSWORD})
    assert right.status_code == 200 and right.json()["agent"]["name"] == "maya"


def test_nothing_of_the_agents_answers_before_the_database_is_up(unloaded: TestClient) -> None:
    for method, url in [*requests_to(unloaded.app, PROTECTED), ("POST", "/api/auth/login")]:  # type: ignore[arg-type]
        response = unloaded.request(method, url, json={"name": "maya", "password": PASSWORD})
        assert response.status_code == 503, (method, url, response.text)
        assert response.json() == {"detail": "the server is starting"}
    assert unloaded.get("/health").json() == {"status": "loading"}


def test_what_needs_the_bot_says_why_it_is_not_there(failed: tuple[TestClient, Runtime]) -> None:
    client, runtime = failed
    token = client.post("/api/auth/login", json={"name": "maya", "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for method, url, body in [
        ("GET", "/api/agent/gaps", None),
        ("POST", "/api/agent/gaps/faq", {"question": "Do you sell bikes?", "answer": "No.", "message_ids": []}),
    ]:
        response = client.request(method, url, headers=headers, json=body)
        assert response.status_code == 503, (method, url, response.text)
        assert response.json() == {"detail": runtime.error}
    # what only needs the database still answers, and says no model serves
    assert client.get("/api/agent/me", headers=headers).json()["name"] == "maya"
    assert client.get("/api/agent/conversations", headers=headers).json() == {"items": [], "next_cursor": None}
    assert client.get("/api/agent/models", headers=headers).json()["serving"] is None
    assert client.get("/health").json() == {"status": "error", "detail": runtime.error}
