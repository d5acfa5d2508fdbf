"""Building a training set: which logged messages train, under which label, deduplicated and redacted."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from training.data import Example, load_examples
from training.dataset import Dataset, DatasetRow, LoggedMessage, build_dataset, is_held_out, normalise
from training.redaction import Redactor

SEED = [Example("where is my order", "orders"), Example("Hi!", "greeting"), Example("tell me a joke", "oos")]
REDACTOR = Redactor()


def logged(message_id: int, text: str, intent: str | None = "orders", confidence: float | None = 0.95,
           route: str | None = "faq", rating: str | None = None, negative: bool = False,
           label: str | None = None) -> LoggedMessage:
    return LoggedMessage(message_id, text, intent, confidence, route, rating, negative, label, f"c{message_id}")


def build(messages: list[LoggedMessage], floor: float = 0.9, holdout: float = 0.0) -> Dataset:
    return build_dataset(SEED, messages, floor, REDACTOR, holdout_fraction=holdout)


def rows(dataset: Dataset) -> set[tuple[str, str, str]]:
    return {(r.text, r.label, r.source) for r in dataset.train}


def test_weak_labels_need_a_positive_signal_and_no_negative_one() -> None:
    dataset = build([
        logged(1, "is my parcel on its way", confidence=0.97),  # sure enough
        logged(2, "parcel still not here", confidence=0.6, rating="up"),  # rated up
        logged(3, "parcel lost maybe", confidence=0.6),  # neither
        logged(4, "parcel went to my neighbour", confidence=0.99, rating="down"),  # rated down
        logged(5, "parcel arrived broken", confidence=0.99, negative=True),  # a bad conversation
        logged(6, "blorp zzz", intent="out_of_scope", confidence=0.99, route="fallback"),  # never a fallback
        logged(7, "something vague", confidence=0.99, route="fallback"),
        logged(8, "weather tomorrow?", intent="oos", confidence=0.99, route="faq"),  # out of scope is no label
        logged(9, "I want a person", intent="human_agent", confidence=0.96, route="handoff"),
        logged(10, "thank you so much", intent="thanks", confidence=0.91, route="smalltalk"),
        logged(11, "typed while waiting", intent=None, confidence=None, route=None),
    ])
    weak = {(r.text, r.label, r.source) for r in dataset.train if r.source.startswith("weak")}
    assert weak == {
        ("is my parcel on its way", "orders", "weak_confidence"),
        ("parcel still not here", "orders", "weak_feedback"),
        ("I want a person", "human_agent", "weak_confidence"),
        ("thank you so much", "thanks", "weak_confidence"),
    }


def test_the_floor_is_configurable() -> None:
    messages = [logged(1, "is my parcel on its way", confidence=0.8)]
    assert not [r for r in build(messages).train if r.source != "seed"]
    assert ("is my parcel on its way", "orders", "weak_confidence") in rows(build(messages, floor=0.75))


def test_agent_labels_are_authoritative() -> None:
    dataset = build([
        logged(1, "Where is my order?", label="shipping"),  # overrides the seed row "where is my order"
        logged(2, "cancel it", rating="down", negative=True, label="orders"),  # a bad conversation, but labelled
        logged(3, "is my parcel on its way", confidence=0.99),
        logged(4, "Is my parcel on its way!!", label="shipping"),  # overrides the weak label
        logged(5, "book a tent repair", label="warranty_repairs"),  # a new intent
    ])
    assert rows(dataset) == {
        ("Where is my order?", "shipping", "agent"),
        ("cancel it", "orders", "agent"),
        ("Is my parcel on its way!!", "shipping", "agent"),
        ("book a tent repair", "warranty_repairs", "agent"),
        ("Hi!", "greeting", "seed"),
        ("tell me a joke", "oos", "seed"),
    }


def test_duplicates_keep_the_most_authoritative_row() -> None:
    dataset = build([
        logged(1, "hi", intent="greeting", route="smalltalk"),  # the seed's "Hi!" wins
        logged(2, "is  my parcel on its way", confidence=0.95),
        logged(3, "IS MY PARCEL ON ITS WAY", confidence=0.6, rating="up"),  # feedback beats confidence
        logged(4, "is my parcel on its way?", confidence=0.99),
        logged(5, "cancel it", label="orders"),
        logged(6, "Cancel it.", label="refunds"),  # the later agent label wins
    ])
    assert [(r.text, r.source) for r in dataset.train if normalise(r.text) == "hi"] == [("Hi!", "seed")]
    parcel = [r for r in dataset.train if normalise(r.text) == "is my parcel on its way"]
    assert [(r.text, r.source) for r in parcel] == [("IS MY PARCEL ON ITS WAY", "weak_feedback")]
    assert [(r.text, r.label) for r in dataset.train if r.source == "agent"] == [("Cancel it.", "refunds")]


def test_every_row_is_redacted() -> None:
    dataset = build_dataset(
        [Example("my card 4111 1111 1111 1111 was charged twice", "payments")],
        [
            logged(1, "mail me at anna@example.com about   my order", confidence=0.95),
            logged(2, "refund to DE89 3704 0044 0532 0130 00 please", label="refunds"),
            logged(3, "member TC-12345678 discount?", intent="membership", rating="up"),
        ],
        0.9, Redactor(patterns=[r"\bTC-\d{8}\b"]), holdout_fraction=0.0,
    )
    assert {r.text for r in dataset.train} == {
        "my card [CARD] was charged twice", "mail me at [EMAIL] about my order", "refund to [IBAN] please",
        "member [REDACTED] discount?",
    }


def test_a_fixed_share_of_agent_labels_is_held_out() -> None:
    messages = [logged(i, f"question number {i} about my order", label="orders") for i in range(1, 401)]
    messages += [logged(1000 + i, f"my parcel {i} is on its way", confidence=0.99) for i in range(50)]
    first, again = build(messages, holdout=0.2), build(list(reversed(messages)), holdout=0.2)
    held = {r.text for r in first.held_out_labelled}
    assert held == {r.text for r in again.held_out_labelled}  # by message id, not by order or chance
    assert 50 < len(held) < 110
    assert all(r.source == "agent" for r in first.held_out_labelled)
    assert not held & {r.text for r in first.train}
    assert held == {f"question number {i} about my order" for i in range(1, 401) if is_held_out(i, 0.2)}
    assert not build(messages, holdout=0.0).held_out_labelled


def test_held_out_text_never_trains_under_another_source() -> None:
    held_id = next(i for i in range(1, 1000) if is_held_out(i, 0.5))
    dataset = build([logged(held_id, "where is my order", label="shipping"), logged(2000, "x", label="shipping"),
                     logged(2001, "y", label="shipping"), logged(2002, "z", label="shipping")], holdout=0.5)
    assert DatasetRow("where is my order", "shipping", "agent", held_id, f"c{held_id}") in dataset.held_out_labelled
    assert "where is my order" not in {r.text for r in dataset.train}  # nor the seed row with the same text


def test_a_new_intent_whose_only_examples_were_held_out_still_trains() -> None:
    held_id = next(i for i in range(1, 1000) if is_held_out(i, 0.5))
    dataset = build([logged(held_id, "can you engrave my knife", label="engraving")], holdout=0.5)
    assert DatasetRow("can you engrave my knife", "engraving", "agent", held_id, f"c{held_id}") in dataset.train
    assert not dataset.held_out_labelled


def test_write_csv_reads_back_as_training_data(tmp_path: Path) -> None:
    dataset = build([logged(1, 'he said "hi, there"\nthen left', label="greeting"),
                     logged(2, "is my parcel on its way", confidence=0.99)])
    path = dataset.write_csv(tmp_path / "sets" / "train.csv")
    with path.open(newline="") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == ["text", "intent", "source", "message_id", "conversation_id"]
    assert {row["source"] for row in table} == {"seed", "agent", "weak_confidence"}
    # a row from a logged message names it and its conversation (erasure finds it by them); seed rows name none
    assert {(row["source"], row["message_id"], row["conversation_id"]) for row in table} == {
        ("seed", "", ""), ("agent", "1", "c1"), ("weak_confidence", "2", "c2")}
    assert load_examples(path) == dataset.examples()
    assert dataset.summary() == {
        "rows": 5, "by_source": {"agent": 1, "seed": 3, "weak_feedback": 0, "weak_confidence": 1},
        "labels": 3, "held_out": 0,
    }


def test_formula_like_text_trains_as_typed(tmp_path: Path) -> None:
    # training sets are read back by `helpline train`, not a spreadsheet: no quote is put before "=" or "-"
    dataset = build([logged(1, "=cancel my order", label="cancel"), logged(2, "-1 star, refund me", label="refund")])
    path = dataset.write_csv(tmp_path / "train.csv")
    assert {"=cancel my order", "-1 star, refund me"} <= {example.text for example in load_examples(path)}


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="weak_floor"):
        build([], floor=1.5)
    with pytest.raises(ValueError, match="holdout_fraction"):
        build([], holdout=1.0)
