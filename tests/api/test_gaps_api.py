"""The FAQ-gap API against a real server: clusters of unanswered questions, an FAQ entry made from one and
answered at once (no restart, open sockets kept), and a cluster labelled as a new intent."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.wsclient import Customer
from tests.servers import LiveServer, add_agents, start_server, stop_server

PASSWORD = "gap test password"
KAYAKS = ["Do you rent kayaks?", "can i rent a kayak", "kayak rental?"]
BIKES = ["Do you sell bicycles?", "do you have bikes for sale"]
KAYAK_ANSWER = ("We don't rent out kayaks or other gear: everything in the shop is for sale, "
                "and kayaks are not in our range.")


def own_data_dir(demo_data_dir: Path, target: Path) -> Path:
    """A data dir whose FAQ and registry a test may change: the demo's replies, FAQ and CURRENT copied, its
    model folders linked (read-only)."""
    (target / "models").mkdir(parents=True)
    shutil.copyfile(demo_data_dir / "company.json", target / "company.json")
    shutil.copytree(demo_data_dir / "faq", target / "faq")
    for entry in (demo_data_dir / "models").iterdir():
        if entry.is_dir():
            os.symlink(entry, target / "models" / entry.name, target_is_directory=True)
        else:
            shutil.copyfile(entry, target / "models" / entry.name)
    return target


@dataclass
class Api:
    server: LiveServer
    token: str

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(method, self.server.url + path, headers=headers, timeout=60, **kwargs)

    def clusters(self) -> list[dict[str, Any]]:
        response = self.call("GET", "/api/agent/gaps")
        assert response.status_code == 200, response.text
        clusters: list[dict[str, Any]] = response.json()["clusters"]
        return clusters


@pytest.fixture(scope="module")
def api(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A server on a data dir and database of its own, with agent Maya; customers asked what the bot cannot answer."""
    workdir = tmp_path_factory.mktemp("gaps-api")
    data_dir = own_data_dir(demo_data_dir, workdir / "var")
    server = start_server(data_dir, f"sqlite:///{workdir / 'helpline.db'}", workdir / "server.log")
    try:
        add_agents(server.database_url, PASSWORD, "maya")
        login = httpx.post(f"{server.url}/api/auth/login", json={"name": "maya", "password": PASSWORD}, timeout=30)
        assert login.status_code == 200, login.text
        for question in [*KAYAKS, *BIKES]:
            with Customer.open(server.ws_url) as customer:
                assert customer.ask(question).start["route"] == "fallback", question
        yield Api(server, login.json()["token"])
    finally:
        stop_server(server)


def cluster_of(clusters: list[dict[str, Any]], text: str) -> dict[str, Any]:
    return next(c for c in clusters if any(e["text"] == text for e in c["examples"]))


def test_agents_only(api: Api) -> None:
    assert httpx.get(f"{api.server.url}/api/agent/gaps", timeout=30).status_code == 401
    anonymous = httpx.post(f"{api.server.url}/api/agent/gaps/faq", timeout=30,
                           json={"question": "Q?", "answer": "A.", "message_ids": []})
    assert anonymous.status_code == 401


def test_unanswered_questions_come_in_clusters_largest_first(api: Api) -> None:
    clusters = api.clusters()
    assert [c["size"] for c in clusters[:2]] == [3, 2]
    kayaks, bikes = clusters[:2]
    assert sorted(e["text"] for e in kayaks["examples"]) == sorted(KAYAKS)
    assert sorted(e["text"] for e in bikes["examples"]) == sorted(BIKES)
    assert kayaks["centroid_question"] in KAYAKS and len(kayaks["message_ids"]) == 3
    assert {e["reason"] for e in kayaks["examples"]} == {"fallback"}
    loose = api.call("GET", "/api/agent/gaps", params={"threshold": 0.3, "limit": 1}).json()
    assert len(loose["clusters"]) == 1 and loose["clusters"][0]["size"] == 5  # one topic: renting and buying gear
    assert "products" in loose["categories"]
    assert api.call("GET", "/api/agent/gaps", params={"threshold": 2}).status_code == 422


def test_an_faq_entry_made_from_a_cluster_answers_at_once(api: Api) -> None:
    kayaks = cluster_of(api.clusters(), KAYAKS[0])
    with Customer.open(api.server.ws_url) as before:  # a socket opened before the FAQ changes
        assert before.ask("Do you rent out kayaks for the weekend?").start["route"] == "fallback"

        added = api.call("POST", "/api/agent/gaps/faq", json={
            "question": "Can I rent a kayak?", "answer": KAYAK_ANSWER, "category": "products",
            "message_ids": kayaks["message_ids"],
        })

        assert added.status_code == 201, added.text
        body = added.json()
        assert body["covered"] == 3 and body["entry"]["category"] == "products"
        again = before.ask("Do you rent out kayaks for the weekend?")  # no wait, no restart, same socket
        assert again.start["route"] == "faq" and again.text == KAYAK_ANSWER
    health = httpx.get(f"{api.server.url}/health", timeout=30).json()
    assert health["faq_version"] == body["faq_version"]
    stored = [json.loads(line) for line in (api.server.data_dir / "faq" / "faq.jsonl").read_text().splitlines()]
    assert stored[-1] == {"id": body["entry"]["id"], "question": "Can I rent a kayak?", "answer": KAYAK_ANSWER,
                          "category": "products"}
    shown = [e["text"] for c in api.clusters() for e in c["examples"]]
    assert not set(KAYAKS) & set(shown)  # covered by the new entry
    assert shown.count("Do you rent out kayaks for the weekend?") == 1  # the fallback asked before it still counts


def test_a_refused_faq_entry_changes_nothing(api: Api) -> None:
    faq_file = api.server.data_dir / "faq" / "faq.jsonl"
    before = faq_file.read_bytes()
    bikes = cluster_of(api.clusters(), BIKES[0])
    taken = api.call("POST", "/api/agent/gaps/faq",
                     json={"question": "Where is my order?", "answer": "Somewhere.", "message_ids": []})
    assert taken.status_code == 409 and "already has an entry" in taken.json()["detail"]
    bot_reply = bikes["message_ids"][0] + 1  # the bot's answer to a customer message
    wrong = api.call("POST", "/api/agent/gaps/faq",
                     json={"question": "Do you sell bikes?", "answer": "No.", "message_ids": [bot_reply]})
    assert wrong.status_code == 422 and "not a customer message" in wrong.json()["detail"]
    unknown = api.call("POST", "/api/agent/gaps/faq",
                       json={"question": "Do you sell bikes?", "answer": "No.", "message_ids": [10**9]})
    assert unknown.status_code == 404
    blank = api.call("POST", "/api/agent/gaps/faq", json={"question": "  ", "answer": "No.", "message_ids": []})
    assert blank.status_code == 422
    assert faq_file.read_bytes() == before
    assert cluster_of(api.clusters(), BIKES[0])["size"] == 2


def test_a_cluster_labelled_as_a_new_intent_becomes_training_data(api: Api) -> None:
    bikes = cluster_of(api.clusters(), BIKES[0])
    bad = api.call("POST", "/api/agent/gaps/intent", json={"intent": "Bikes!", "message_ids": bikes["message_ids"]})
    assert bad.status_code == 422

    labelled = api.call("POST", "/api/agent/gaps/intent",
                        json={"intent": "bicycles", "message_ids": bikes["message_ids"]})

    assert labelled.status_code == 200, labelled.text
    assert labelled.json() == {"intent": "bicycles", "labelled": 2}
    assert "bicycles" in api.call("GET", "/api/agent/intents").json()
    assert all(BIKES[0] not in [e["text"] for e in c["examples"]] for c in api.clusters())
    example = bikes["examples"][0]
    transcript = api.call("GET", f"/api/agent/conversations/{example['conversation_id']}").json()
    asked = next(m for m in transcript["messages"] if m["id"] == example["message_id"])
    assert asked["label"] == "bicycles"  # the console's transcript shows the agent's label
