"""The whole learning loop with real parts: customers chat over the socket, an agent relabels through the API,
`helpline retrain` promotes a model, and the running server answers with it without a restart."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.test_cli_retrain import EVAL, INTENTS
from tests.api.wsclient import Customer
from tests.cli import helpline, last_json
from tests.servers import LiveServer, add_agents, start_server, stop_server
from tests.tiny_models import SWAPPED, write_intents
from training.registry import ModelRegistry

pytestmark = pytest.mark.slow

VOUCHERS = [
    "can I buy a gift voucher for my friend", "do you sell gift vouchers", "I want a voucher as a present",
    "gift voucher for my sister please", "how do I get a voucher to give someone", "vouchers for birthdays?",
    "can I send a gift voucher by email", "I'd like to buy a present voucher",
]
PASSWORD = "correct horse battery"


@pytest.fixture
def server(demo_data_dir: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """A server over a small company of its own: three seed intents, a 2-epoch model, the demo FAQ."""
    from training.args import TrainingArguments
    from training.data import load_examples
    from training.trainer import train

    data_dir = tmp_path / "var"
    seed = write_intents(data_dir / "seed" / "intents.csv", INTENTS)
    write_intents(data_dir / "seed" / "intents_eval.csv", EVAL)
    shutil.copytree(demo_data_dir / "faq", data_dir / "faq")
    registry = ModelRegistry(data_dir / "models")
    version = registry.new_version_path()
    args = TrainingArguments(epochs=2, max_length=32, batch_size=8, seed=0, patience=0, device="cpu")
    train(load_examples(seed), args, None, version, progress=False)
    registry.promote(version.name)
    database = f"sqlite:///{tmp_path / 'helpline.db'}"
    add_agents(database, PASSWORD, "maya")
    live = start_server(data_dir, database, tmp_path / "server.log", HELPLINE_RELOAD_SECONDS="0.5")
    yield live
    stop_server(live)


def wait_for_version(server: LiveServer, version: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if httpx.get(f"{server.url}/health").json().get("model_version") == version:
            return
        time.sleep(0.3)
    raise AssertionError(f"the server never served {version}: {httpx.get(f'{server.url}/health').json()}")


def test_relabel_retrain_and_serve_without_restart(server: LiveServer, tmp_path: Path) -> None:
    env = {"HELPLINE_DATABASE_URL": server.database_url}
    token = httpx.post(f"{server.url}/api/auth/login", json={"name": "maya", "password": PASSWORD}).json()["token"]
    api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})
    before = httpx.get(f"{server.url}/health").json()["model_version"]

    with Customer.open(server.ws_url) as kept_open:
        question = VOUCHERS[0]
        first = kept_open.ask(question)
        assert first.start["intent"] != "gift_vouchers"  # a label the model has never seen
        conversations = [kept_open.session["conversation_id"]]
        for text in VOUCHERS[1:]:  # other customers ask the same thing in their own words
            with Customer.open(server.ws_url) as other:
                other.ask(text)
                conversations.append(other.session["conversation_id"])

        # an agent corrects every voucher question, through the agent API
        ids = []
        for conversation in conversations:
            transcript = api.get(f"/api/agent/conversations/{conversation}").json()
            ids += [m["id"] for m in transcript["messages"] if m["role"] == "customer"]
        for message_id in ids:
            labelled = api.put(f"/api/agent/messages/{message_id}/intent", json={"intent": "gift_vouchers"})
            assert labelled.status_code == 200, labelled.text

        # retrain on the logs (tiny configuration) while the server runs
        result = last_json(helpline("retrain", "--epochs", "3", "--tolerance", "0.2", "--quiet",
                                    data_dir=server.data_dir, **env))
        assert result["promoted"] is True, result["reasons"]
        wait_for_version(server, result["version"])

        # the connection opened before the swap keeps working and now gets the agent's intent
        again = kept_open.ask(question)
        assert again.start["intent"] == "gift_vouchers", again.start
        assert again.end["text"]

        # a candidate made worse on purpose (seed intents under swapped names) is refused
        worse = write_intents(tmp_path / "worse.csv", INTENTS, SWAPPED)
        refused = helpline("retrain", "--from", "base", "--data", str(worse), "--epochs", "2", "--quiet",
                           data_dir=server.data_dir, **env)
        decision = json.loads(refused.stdout.strip().splitlines()[-1])
        assert decision["promoted"] is False and decision["reasons"]
        time.sleep(1.5)  # a few reload ticks
        assert httpx.get(f"{server.url}/health").json()["model_version"] == result["version"] != before
        assert kept_open.ask(question).start["intent"] == "gift_vouchers"
    api.close()
