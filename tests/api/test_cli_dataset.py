"""`helpline dataset build` run as a subprocess over a real database of logged conversations."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.store.db import make_engine, migrate
from bot.store.transcripts import BotReplyRecord, TranscriptStore
from bot.workspace import review
from bot.workspace.accounts import Accounts
from tests.cli import helpline, last_json


def log_conversations(url: str) -> None:
    """Two conversations: a happy one (weak labels) and one rated down, where an agent relabelled a message."""
    engine = make_engine(url)
    migrate(engine)
    store = TranscriptStore(engine)
    agent = Accounts(store).add_agent("maya", "correct horse battery").id
    happy, _ = store.open_conversation()
    for n, (text, intent, confidence, route, rating) in enumerate([
        ("is my parcel on its way", "orders", 0.95, "faq", None),
        ("when do refunds arrive", "refunds", 0.7, "faq", "up"),
        ("hmm the thing", "orders", 0.2, "fallback", None),
    ]):
        store.log_turn(happy, text, None, BotReplyRecord(f"h{n}", "answer", intent, confidence, route=route))
        if rating:
            store.record_feedback(happy, f"h{n}", rating)
    unhappy, _ = store.open_conversation()
    asked, _ = store.log_turn(unhappy, "charged twice on 4111 1111 1111 1111, mail me at anna@example.com", None,
                              BotReplyRecord("u0", "answer", "orders", 0.97, route="faq"))
    store.record_feedback(unhappy, "u0", "down")
    review.label_intent(store, asked, "double_charge", agent)
    store.log_turn(unhappy, "still charged twice", None, BotReplyRecord("u1", "answer", "payments", 0.99, route="faq"))
    engine.dispose()


def test_dataset_build_writes_the_set_and_prints_its_summary(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'helpline.db'}"
    log_conversations(url)
    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "intents.csv").write_text("text,intent\nwhere is my order,orders\nhi,greeting\n")
    out = tmp_path / "sets" / "train.csv"
    result = helpline("dataset", "build", "--out", str(out), data_dir=tmp_path, HELPLINE_DATABASE_URL=url)
    summary = last_json(result)
    assert summary == {
        "rows": 5, "by_source": {"agent": 1, "seed": 2, "weak_feedback": 1, "weak_confidence": 1},
        "labels": 4, "held_out": 0, "out": str(out), "held_out_out": str(tmp_path / "sets" / "train.held_out.csv"),
    }
    with out.open(newline="") as handle:
        rows = {(r["text"], r["intent"], r["source"]) for r in csv.DictReader(handle)}
    assert rows == {
        ("where is my order", "orders", "seed"), ("hi", "greeting", "seed"),
        ("is my parcel on its way", "orders", "weak_confidence"),
        ("when do refunds arrive", "refunds", "weak_feedback"),
        ("charged twice on [CARD], mail me at [EMAIL]", "double_charge", "agent"),
    }
    assert (tmp_path / "sets" / "train.held_out.csv").read_text().splitlines() == [
        "text,intent,source,message_id,conversation_id"]

    stricter = last_json(helpline("dataset", "build", "--floor", "0.99", data_dir=tmp_path,
                                  HELPLINE_DATABASE_URL=url))
    assert stricter["by_source"]["weak_confidence"] == 0 and stricter["rows"] == 4
    assert Path(stricter["out"]).parent == tmp_path / "datasets" and Path(stricter["out"]).is_file()


def test_dataset_build_errors_are_clear(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'helpline.db'}"
    result = helpline("dataset", "build", data_dir=tmp_path, HELPLINE_DATABASE_URL=url)
    assert result.returncode == 2 and "seed data not found" in result.stderr and "helpline setup" in result.stderr
    result = helpline("dataset", "build", "--floor", "1.5", data_dir=tmp_path, HELPLINE_DATABASE_URL=url)
    assert result.returncode == 2 and "--floor" in result.stderr
    result = helpline("dataset", "build", data_dir=tmp_path, HELPLINE_REDACT_PATTERNS='["(bad"]',
                      HELPLINE_DATABASE_URL=url)
    assert result.returncode != 0 and "not a valid regular expression" in result.stderr
