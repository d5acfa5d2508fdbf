"""Logged messages as training material, and personal data masked at log time and in exports (real databases)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from bot.inference.models import Models
from bot.learning.training_data import (
    SeedDataMissing,
    dataset_from_logs,
    logged_messages,
)
from bot.privacy import log_redactor, training_redactor
from bot.settings import Settings
from bot.store.db import make_engine, migrate
from bot.store.transcripts import BotReplyRecord, TranscriptStore
from bot.turn.engine import DialogueEngine
from bot.turn.replies import Replies
from bot.workspace import inbox, review
from bot.workspace.accounts import Accounts
from bot.workspace.exports import export_rows
from core.sentence_encoder import SentenceEncoder
from retrieval.faq import FaqEntry
from retrieval.store import FaqRetriever
from training.args import TrainingArguments
from training.data import Example
from training.model import IntentClassifier
from training.redaction import Redactor
from training.trainer import train

PERSONAL = "my card 4111 1111 1111 1111, mail anna@example.com, member TC-12345678, phone +44 20 7946 0958"


@pytest.fixture
def agent_id(store: TranscriptStore) -> int:
    return Accounts(store).add_agent("maya", "correct horse battery", display_name="Maya").id


def turn(store: TranscriptStore, conversation: str, text: str, intent: str, confidence: float, route: str,
         rating: str | None = None) -> tuple[int, int]:
    """A customer message and the bot's logged answer (optionally rated by the customer)."""
    reply_id = uuid.uuid4().hex
    asked, answer = store.log_turn(conversation, text, None,
                                   BotReplyRecord(reply_id, "an answer", intent, confidence, route=route))
    assert answer is not None
    if rating:
        store.record_feedback(conversation, reply_id, rating)
    return asked, answer


def test_logged_messages_carry_decision_rating_signals_and_labels(store: TranscriptStore, agent_id: int) -> None:
    happy, _ = store.open_conversation()
    parcel, _ = turn(store, happy, "where is my parcel", "orders", 0.95, "faq", rating="up")
    thanks, _ = turn(store, happy, "thanks!", "thanks", 0.99, "smalltalk")
    rated_down, _ = store.open_conversation()
    first, _ = turn(store, rated_down, "refund please", "refunds", 0.97, "faq")
    turn(store, rated_down, "that did not help", "refunds", 0.97, "faq", rating="down")
    judged, _ = store.open_conversation()
    judged_msg, judged_answer = turn(store, judged, "can I pay by invoice", "payments", 0.93, "faq")
    review.review_reply(store, judged_answer, "bad", agent_id)
    handed, _ = store.open_conversation()
    unsure, _ = turn(store, handed, "hmm the thing", "orders", 0.31, "handoff")  # fallbacks in a row
    person, _ = turn(store, handed, "I want a person", "human_agent", 0.96, "handoff")
    waiting = store.log_customer(handed, "are you there?")  # while waiting: the bot did not answer
    store.log_message(handed, "agent", "Hi, Maya here", agent_id)
    review.label_intent(store, unsure, "warranty_repairs", agent_id)

    by_id = {m.message_id: m for m in logged_messages(store)}
    assert list(by_id) == sorted(by_id) == sorted(
        [parcel, thanks, first, first + 2, judged_msg, unsure, person, waiting]
    )  # customer messages only, oldest first
    assert (by_id[parcel].predicted_intent, by_id[parcel].confidence, by_id[parcel].route) == ("orders", 0.95, "faq")
    assert by_id[parcel].rating == "up" and not by_id[parcel].conversation_negative
    assert by_id[thanks].rating is None and by_id[thanks].route == "smalltalk"
    assert by_id[first].conversation_negative and by_id[first].rating is None  # a later reply was rated down
    assert by_id[judged_msg].conversation_negative  # an agent judged the answer bad
    assert by_id[unsure].route == "fallback" and by_id[unsure].label == "warranty_repairs"
    assert by_id[person].route == "handoff" and by_id[person].label is None
    assert by_id[waiting].predicted_intent is None and by_id[waiting].route is None


def test_dataset_from_logs_uses_the_seed_dir_and_the_settings(store: TranscriptStore, agent_id: int,
                                                              tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, redact_patterns=[r"\bTC-\d{8}\b"], weak_label_floor=0.9)
    with pytest.raises(SeedDataMissing, match="helpline setup"):
        dataset_from_logs(settings, store)
    settings.seed_dir.mkdir(parents=True)
    (settings.seed_dir / "intents.csv").write_text("text,intent\nwhere is my order,orders\nhello,greeting\n")
    conversation, _ = store.open_conversation()
    turn(store, conversation, "is my parcel on its way", "orders", 0.92, "faq")
    labelled, _ = turn(store, conversation, PERSONAL, "payments", 0.4, "fallback")
    review.label_intent(store, labelled, "payments", agent_id)

    dataset = dataset_from_logs(settings, store, holdout_fraction=0.0)
    assert {(r.text, r.label, r.source) for r in dataset.train} == {
        ("where is my order", "orders", "seed"), ("hello", "greeting", "seed"),
        ("is my parcel on its way", "orders", "weak_confidence"),
        ("my card [CARD], mail [EMAIL], member [REDACTED], phone [PHONE]", "payments", "agent"),
    }
    assert not [r for r in dataset_from_logs(settings, store, weak_floor=0.95).train if r.source.startswith("weak")]


def test_redactors_follow_the_settings() -> None:
    settings = Settings(redact_log="email, card", redact_patterns=[r"\bTC-\d{8}\b"])
    assert settings.redact_log_kinds == ("email", "card")
    assert log_redactor(settings).redact(PERSONAL) == (
        "my card [CARD], mail [EMAIL], member [REDACTED], phone +44 20 7946 0958"
    )
    assert training_redactor(settings).redact(PERSONAL) == (
        "my card [CARD], mail [EMAIL], member [REDACTED], phone [PHONE]"
    )
    assert Settings().redact_log_kinds == ("card",) and Settings(redact_log="").redact_log_kinds == ()
    with pytest.raises(ValueError, match="passport"):
        Settings(redact_log="card,passport")
    with pytest.raises(ValueError, match="not a valid regular expression"):
        Settings(redact_patterns=["(unclosed"])
    assert Settings(redact_patterns="").redact_patterns == []  # as HELPLINE_REDACT_PATTERNS= reads
    assert Settings(redact_patterns='["a\\\\d"]').redact_patterns == ["a\\d"]
    with pytest.raises(ValueError, match="JSON list"):
        Settings(redact_patterns='{"a": 1}')


def test_exports_mask_personal_data(store: TranscriptStore, agent_id: int) -> None:
    conversation, _ = store.open_conversation()
    turn(store, conversation, PERSONAL, "payments", 0.9, "faq")
    store.log_message(conversation, "agent", "I will email anna@example.com", agent_id)
    masked = "my card [CARD], mail [EMAIL], member TC-12345678, phone [PHONE]"
    for rows in (list(export_rows(store)), list(export_rows(store, filters=inbox.InboxFilter(), agent_fields=True))):
        assert [r["text"] for r in rows] == [masked, "an answer", "I will email [EMAIL]"]
    custom = Redactor(patterns=[r"\bTC-\d{8}\b"])
    first, *_ = export_rows(store, custom)
    assert first["text"] == masked.replace("TC-12345678", "[REDACTED]")
    first, *_ = export_rows(store, custom, inbox.InboxFilter(), agent_fields=True)
    assert first["text"] == masked.replace("TC-12345678", "[REDACTED]")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    """A tiny classifier really trained (one epoch) and a two-entry FAQ: enough for the engine to log turns."""
    texts = {
        "payments": ["I was charged twice", "my card payment failed", "can I pay by card", "payment declined"],
        "greeting": ["hi", "hello", "hey there", "good morning"],
        "orders": ["where is my order", "order status", "cancel my order", "my order is late"],
    }
    examples = [Example(text, label) for label, group in texts.items() for text in group]
    args = TrainingArguments(epochs=1, batch_size=16, max_length=32, val_fraction=0.0, seed=0, device="cpu")
    folder = train(examples, args, None, tmp_path_factory.mktemp("logs-model") / "model", progress=False).path
    encoder = SentenceEncoder(device="cpu")
    faq = [FaqEntry("pay", "Which payment methods do you accept?", "Cards and PayPal.", "payments"),
           FaqEntry("order", "Where is my order?", "See your account.", "orders")]
    return Models(IntentClassifier.load(folder, device="cpu"), FaqRetriever.from_entries(faq, encoder))


@pytest.fixture
def sqlite_store(tmp_path: Path) -> TranscriptStore:
    engine = make_engine(f"sqlite:///{tmp_path / 'helpline.db'}")
    migrate(engine)
    return TranscriptStore(engine)


def test_customer_text_is_masked_before_it_is_stored(models: Models, sqlite_store: TranscriptStore,
                                                     demo_dir: Path) -> None:
    replies = Replies.load(demo_dir / "company.json")
    default = DialogueEngine(models, sqlite_store, replies)  # cards only, as HELPLINE_REDACT_LOG's default
    conversation, _ = sqlite_store.open_conversation()
    default.answer(conversation, PERSONAL)
    assert sqlite_store.history(conversation)[0]["text"] == (
        "my card [CARD], mail anna@example.com, member TC-12345678, phone +44 20 7946 0958"
    )
    strict_settings = Settings(redact_log="card,email,phone", redact_patterns=[r"\bTC-\d{8}\b"])
    strict = DialogueEngine(models, sqlite_store, replies, strict_settings)
    conversation, _ = sqlite_store.open_conversation()
    sqlite_store.transition(conversation, ("bot",), "waiting")  # a person handles it: stored all the same
    strict.answer(conversation, PERSONAL)
    masked = "my card [CARD], mail [EMAIL], member [REDACTED], phone [PHONE]"
    assert [m["text"] for m in sqlite_store.history(conversation)] == [masked]
    assert inbox.list_conversations(sqlite_store, inbox.InboxFilter()).items[0]["last_message"] == masked
    none = DialogueEngine(models, sqlite_store, replies, Settings(redact_log=""))
    conversation, _ = sqlite_store.open_conversation()
    none.answer(conversation, PERSONAL)
    assert sqlite_store.history(conversation)[0]["text"] == PERSONAL
