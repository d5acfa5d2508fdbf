"""Logged customer messages as training material: what the bot decided, the ratings, the agents' labels."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import aliased

from bot.privacy import training_redactor
from bot.settings import Settings
from bot.store.models import Conversation, Feedback, IntentLabel, Message, ReplyReview
from bot.store.transcripts import TranscriptStore
from bot.turn.policy import HANDOFF_INTENTS
from training.data import load_examples
from training.dataset import Dataset, LoggedMessage, build_dataset


class SeedDataMissing(FileNotFoundError):
    """The company's seed training data is not in the seed dir."""


def logged_messages(store: TranscriptStore) -> Iterator[LoggedMessage]:
    """Every customer message, oldest first, with its decision, its reply's rating and any agent label.

    A turn that became a handoff after fallbacks in a row is reported with the route ``fallback`` it had,
    so only a customer who asked for a person counts as a ``handoff``.
    """
    reply, rated, reviewed = aliased(Message), aliased(Feedback), aliased(Message)
    # any reply of the conversation rated down or judged bad by an agent (the flag covers old ratings too)
    down = (
        select(rated.id)
        .where(rated.conversation_id == Message.conversation_id, rated.rating == "down")
        .correlate(Message)
    )
    judged_bad = (
        select(ReplyReview.id)
        .join(reviewed, reviewed.id == ReplyReview.message_id)
        .where(reviewed.conversation_id == Message.conversation_id, ReplyReview.verdict == "bad")
        .correlate(Message)
    )
    negative = or_(Conversation.negative_feedback.is_(True), exists(down), exists(judged_bad))
    query = (
        select(Message, Feedback.rating, IntentLabel.intent, negative)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .outerjoin(reply, (reply.in_reply_to == Message.id) & (reply.role == "bot"))
        .outerjoin(Feedback, Feedback.message_id == reply.id)
        .outerjoin(IntentLabel, IntentLabel.message_id == Message.id)
        .where(Message.role == "customer")
        .order_by(Message.id)
        .execution_options(yield_per=500)
    )
    with store.session() as session:
        for message, rating, label, is_negative in session.execute(query):
            route = message.route
            if route == "handoff" and message.intent not in HANDOFF_INTENTS:
                route = "fallback"
            yield LoggedMessage(
                message_id=message.id, text=message.text, predicted_intent=message.intent,
                confidence=message.confidence, route=route, rating=rating,
                conversation_negative=bool(is_negative), label=label, conversation_id=message.conversation_id,
            )


def dataset_from_logs(
    settings: Settings, store: TranscriptStore, weak_floor: float | None = None, holdout_fraction: float = 0.2
) -> Dataset:
    """The training set of ``helpline dataset build`` and ``helpline retrain``: seed file + logged messages."""
    seed_file = settings.seed_dir / "intents.csv"
    if not seed_file.is_file():
        raise SeedDataMissing(
            f"seed data not found: {seed_file}; run `helpline setup` or set HELPLINE_SEED_DIR"
        )
    floor = settings.weak_label_floor if weak_floor is None else weak_floor
    return build_dataset(
        load_examples(seed_file), logged_messages(store), floor, training_redactor(settings),
        holdout_fraction=holdout_fraction,
    )
