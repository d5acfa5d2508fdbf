"""The FAQ-gap API against a real server: clusters of unanswered questions, an admin's FAQ entry made from one and
answered at once (no restart, open sockets kept), an agent's entry proposed and answered only once an admin
publishes it (or back in the list when rejected), and a cluster labelled as a new intent."""

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

from bot.store.db import make_engine
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts
from tests.api.wsclient import Customer
from tests.servers import LiveServer, add_agents, start_server, stop_server

PASSWORD = "gap test password"
KAYAKS = ["Do you rent kayaks?", "can i rent a kayak", "kayak rental?"]
BIKES = ["Do you sell bicycles?", "do you have bikes for sale"]
DOGS = ["Do you sell dog coats?", "do you have coats for dogs"]
DOG_QUESTION = "Do you have raincoats for dogs?"
KAYAK_ANSWER = ("We don't rent out kayaks or other gear: everything in the shop is for sale, "
                "and kayaks are not in our range.")
DOG_ANSWER = "We don't sell clothing for dogs: our range is outdoor gear for people."


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
    tokens: dict[str, str]  # name -> bearer token: agent maya, admin ada

    def call(self, method: str, path: str, who: str = "ada", **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return httpx.request(method, self.server.url + path, headers=headers, timeout=60, **kwargs)

    def clusters(self) -> list[dict[str, Any]]:
        response = self.call("GET", "/api/agent/gaps")
        assert response.status_code == 200, response.text
        clusters: list[dict[str, Any]] = response.json()["clusters"]
        return clusters


@pytest.fixture(scope="module")
def api(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A server on a data dir and database of its own, with agent Maya and admin Ada; customers asked what the bot
    cannot answer."""
    workdir = tmp_path_factory.mktemp("gaps-api")
    data_dir = own_data_dir(demo_data_dir, workdir / "var")
    server = start_server(data_dir, f"sqlite:///{workdir / 'helpline.db'}", workdir / "server.log")
    try:
        add_agents(server.database_url, PASSWORD, "maya")
        add_admin(server.database_url, "ada")
        tokens = {}
        for name in ("maya", "ada"):
            login = httpx.post(f"{server.url}/api/auth/login", json={"name": name, "password": PASSWORD}, timeout=30)
            assert login.status_code == 200, login.text
            tokens[name] = login.json()["token"]
        for question in [*KAYAKS, *BIKES, *DOGS]:
            with Customer.open(server.ws_url) as customer:
                assert customer.ask(question).start["route"] == "fallback", question
        yield Api(server, tokens)
    finally:
        stop_server(server)


def add_admin(database_url: str, name: str, password: str = PASSWORD) -> None:
    engine = make_engine(database_url)
    Accounts(TranscriptStore(engine)).add_agent(name, password, "admin", name.capitalize())
    engine.dispose()


def cluster_of(clusters: list[dict[str, Any]], text: str) -> dict[str, Any]:
    return next(c for c in clusters if any(e["text"] == text for e in c["examples"]))


def shown_texts(api: Api) -> list[str]:
    return [e["text"] for c in api.clusters() for e in c["examples"]]


def test_agents_only(api: Api) -> None:
    assert httpx.get(f"{api.server.url}/api/agent/gaps", timeout=30).status_code == 401
    anonymous = httpx.post(f"{api.server.url}/api/agent/gaps/faq", timeout=30,
                           json={"question": "Q?", "answer": "A.", "message_ids": []})
    assert anonymous.status_code == 401


def test_unanswered_questions_come_in_clusters_largest_first(api: Api) -> None:
    clusters = api.clusters()
    assert [c["size"] for c in clusters[:3]] == [3, 2, 2]
    kayaks, bikes = clusters[0], cluster_of(clusters, BIKES[0])
    assert sorted(e["text"] for e in kayaks["examples"]) == sorted(KAYAKS)
    assert sorted(e["text"] for e in bikes["examples"]) == sorted(BIKES)
    assert kayaks["centroid_question"] in KAYAKS and len(kayaks["message_ids"]) == 3
    assert {e["reason"] for e in kayaks["examples"]} == {"fallback"}
    loose = api.call("GET", "/api/agent/gaps", params={"threshold": 0.3, "limit": 1}).json()
    assert len(loose["clusters"]) == 1  # one topic, renting and buying gear, holds the kayaks and the bikes
    assert set(kayaks["message_ids"] + bikes["message_ids"]) <= set(loose["clusters"][0]["message_ids"])
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


def test_an_agents_entry_is_proposed_and_answers_customers_only_once_an_admin_publishes_it(api: Api) -> None:
    faq_file = api.server.data_dir / "faq" / "faq.jsonl"
    before, served = faq_file.read_bytes(), httpx.get(f"{api.server.url}/health", timeout=30).json()["faq_version"]
    dogs = cluster_of(api.clusters(), DOGS[0])
    with Customer.open(api.server.ws_url) as customer:
        proposed = api.call("POST", "/api/agent/gaps/faq", "maya", json={
            "question": "Do you sell coats for dogs?", "answer": "Yes.", "message_ids": dogs["message_ids"]})

        assert proposed.status_code == 202, proposed.text
        proposal = proposed.json()
        assert (proposal["status"], proposal["proposed_by"], proposal["answer"]) == ("pending", "Maya", "Yes.")
        assert proposal["message_ids"] == dogs["message_ids"] and proposal["faq_id"] is None
        asked = customer.ask(DOG_QUESTION)
        assert asked.start["route"] == "fallback" and "Yes." not in asked.text  # not served: nobody published it
        assert faq_file.read_bytes() == before
        assert httpx.get(f"{api.server.url}/health", timeout=30).json()["faq_version"] == served
        assert not set(DOGS) & set(shown_texts(api))  # the questions wait with the proposal
        mine = api.call("GET", "/api/agent/gaps/proposals", "maya").json()["items"]
        assert [(p["id"], p["status"]) for p in mine] == [(proposal["id"], "pending")]
        base = f"/api/admin/faq-proposals/{proposal['id']}"
        assert api.call("POST", f"{base}/publish", "maya", json={}).status_code == 403  # agents propose only
        assert api.call("GET", "/api/admin/faq-proposals", "maya").status_code == 403
        assert [p["id"] for p in api.call("GET", "/api/admin/faq-proposals").json()["items"]] == [proposal["id"]]

        published = api.call("POST", f"{base}/publish", json={"answer": DOG_ANSWER, "category": "products"})

        assert published.status_code == 201, published.text
        body = published.json()
        assert body["covered"] == len(dogs["message_ids"]) and body["entry"]["answer"] == DOG_ANSWER
        assert body["proposal"]["status"] == "published" and body["proposal"]["decided_by"] == "Ada"
        assert body["proposal"]["faq_id"] == body["entry"]["id"]
        assert body["entry"]["question"] == "Do you sell coats for dogs?"  # the agent's, not edited
        again = customer.ask(DOG_QUESTION)  # the same socket, no restart
        assert again.start["route"] == "faq" and again.text == DOG_ANSWER
    assert httpx.get(f"{api.server.url}/health", timeout=30).json()["faq_version"] == body["faq_version"]
    mine = api.call("GET", "/api/agent/gaps/proposals", "maya").json()["items"]
    assert (mine[0]["status"], mine[0]["decided_by"], mine[0]["answer"]) == ("published", "Ada", DOG_ANSWER)
    assert api.call("POST", f"{base}/publish", json={}).status_code == 409  # once
    assert api.call("POST", f"{base}/reject", json={}).status_code == 409
    assert api.call("GET", "/api/admin/faq-proposals").json()["items"] == []  # nothing pending
    assert not set(DOGS) & set(shown_texts(api))  # covered by the entry now
    taken = api.call("POST", "/api/agent/gaps/faq", "maya", json={
        "question": "do you sell COATS for  dogs?", "answer": "No.", "message_ids": []})
    assert taken.status_code == 409  # an agent cannot propose a question the FAQ has either


def test_a_rejected_proposal_gives_the_questions_back_with_a_note(api: Api) -> None:
    bikes = cluster_of(api.clusters(), BIKES[0])
    blank = api.call("POST", "/api/agent/gaps/faq", "maya", json={"question": " ", "answer": "No.", "message_ids": []})
    assert blank.status_code == 422
    proposed = api.call("POST", "/api/agent/gaps/faq", "maya", json={
        "question": "Do you sell bikes?", "answer": "No.", "message_ids": bikes["message_ids"]})
    assert proposed.status_code == 202
    proposal_id = proposed.json()["id"]
    assert BIKES[0] not in shown_texts(api)
    assert api.call("POST", f"/api/admin/faq-proposals/{proposal_id}/reject", "maya", json={}).status_code == 403

    rejected = api.call("POST", f"/api/admin/faq-proposals/{proposal_id}/reject",
                        json={"note": "We will label these as an intent instead."})

    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["decided_by"]) == ("rejected", "Ada")
    mine = {p["id"]: p for p in api.call("GET", "/api/agent/gaps/proposals", "maya").json()["items"]}
    assert mine[proposal_id]["note"] == "We will label these as an intent instead."
    assert cluster_of(api.clusters(), BIKES[0])["message_ids"] == bikes["message_ids"]  # back in the list
    assert api.call("POST", f"/api/admin/faq-proposals/{proposal_id}/publish", json={}).status_code == 409
    assert api.call("POST", "/api/admin/faq-proposals/999999/publish", json={}).status_code == 404
    assert api.call("POST", "/api/admin/faq-proposals/999999/reject", json={}).status_code == 404
    assert "Do you sell bikes?" not in (api.server.data_dir / "faq" / "faq.jsonl").read_text()


def test_a_proposal_the_faq_overtook_stays_pending_until_published_with_another_question(api: Api) -> None:
    proposed = api.call("POST", "/api/agent/gaps/faq", "maya", json={
        "question": "Do you sell tents for dogs?", "answer": "No.", "message_ids": []})
    assert proposed.status_code == 202
    base = f"/api/admin/faq-proposals/{proposed.json()['id']}"
    direct = api.call("POST", "/api/agent/gaps/faq", json={  # an admin adds the same question meanwhile
        "question": "Do you sell tents for dogs?", "answer": "No, only for people.", "message_ids": []})
    assert direct.status_code == 201

    overtaken = api.call("POST", f"{base}/publish", json={})

    assert overtaken.status_code == 409 and "already has an entry" in overtaken.json()["detail"]
    pending = api.call("GET", "/api/admin/faq-proposals").json()["items"]
    assert [(p["id"], p["status"], p["decided_by"]) for p in pending] == [(proposed.json()["id"], "pending", None)]
    renamed = api.call("POST", f"{base}/publish", json={"question": "Do you sell dog beds for camping?"})
    assert renamed.status_code == 201, renamed.text
    assert renamed.json()["proposal"]["question"] == "Do you sell dog beds for camping?"
    assert renamed.json()["entry"]["answer"] == "No."


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
