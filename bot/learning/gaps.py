"""The FAQ gap: customer questions the bot could not answer, grouped by meaning, and what agents do about them.

A message is unanswered when the bot fell back on it, when its answer was rated down, or when it led to a
handoff (two fallbacks, or the question a customer asked just before asking for a person). Messages an agent
has since covered with a new FAQ entry, or labelled with an intent, leave the list, as do those of an FAQ entry
proposed and not yet published or rejected.
"""

from __future__ import annotations

import hashlib
import re
import threading
import weakref
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from bot.store.models import FaqGapLink, FaqProposal, FaqProposalMessage, Feedback, IntentLabel, Message, iso, utcnow
from bot.store.transcripts import TranscriptStore
from bot.turn.policy import HANDOFF_INTENTS
from bot.workspace.review import UnknownMessage, WrongMessageRole, label_intent

DEFAULT_THRESHOLD = 0.75
DEFAULT_LIMIT = 20
MAX_MESSAGES = 2000  # the newest unanswered messages clustered; older ones wait for these to be handled
EXAMPLES = 5


class Encoder(Protocol):
    """What clustering needs of a sentence encoder: unit-length vectors for texts."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class UnansweredMessage:
    """A customer message the bot did not answer well, and why it counts as unanswered."""

    message_id: int
    conversation_id: str
    text: str
    created_at: datetime
    route: str | None
    reason: str  # fallback | negative_feedback | handoff

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id, "conversation_id": self.conversation_id, "text": self.text,
            "created_at": iso(self.created_at), "route": self.route, "reason": self.reason,
        }


@dataclass(frozen=True)
class Cluster:
    """Unanswered messages that ask the same thing; ``examples`` are distinct texts, most typical first."""

    id: str
    size: int
    examples: list[dict[str, Any]]
    centroid_question: str
    message_ids: list[int] = field(default_factory=list)
    latest_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "size": self.size, "centroid_question": self.centroid_question,
            "examples": self.examples, "message_ids": self.message_ids, "latest_at": self.latest_at,
        }


# which messages ---------------------------------------------------------------------------------


def unanswered_messages(
    store: TranscriptStore, faq_ids: Collection[str] | None = None, max_messages: int = MAX_MESSAGES
) -> list[UnansweredMessage]:
    """The newest unanswered customer messages, newest first.

    ``faq_ids`` are the entries the bot serves: a message covered by an entry no longer in the FAQ counts
    as unanswered again (None: any cover counts).
    """
    reply, asked, earlier = aliased(Message), aliased(Message), aliased(Message)
    rated_down = exists().where(
        reply.in_reply_to == Message.id, reply.role == "bot",
        Feedback.message_id == reply.id, Feedback.rating == "down",
    )
    # the customer's last question before each explicit request for a person
    before_request = (
        select(func.max(earlier.id))
        .where(earlier.conversation_id == asked.conversation_id, earlier.role == "customer", earlier.id < asked.id)
        .correlate(asked)
        .scalar_subquery()
    )
    asked_after = select(before_request).where(
        asked.role == "customer", asked.route == "handoff", asked.intent.in_(HANDOFF_INTENTS)
    )
    covered = select(FaqGapLink.message_id)
    # an agent proposed an entry for these and an admin has yet to decide: someone is on them
    proposed = select(FaqProposalMessage.message_id).join(FaqProposal).where(FaqProposal.status == "pending")
    if faq_ids is not None:
        covered = covered.where(FaqGapLink.faq_id.in_(list(faq_ids)))
    query = (
        select(Message, rated_down.label("rated_down"))
        .where(
            Message.role == "customer",
            or_(
                Message.route == "fallback",
                and_(Message.route == "handoff", Message.intent.not_in(HANDOFF_INTENTS)),  # after fallbacks
                and_(Message.route.in_(("faq", "fallback")), Message.id.in_(asked_after)),
                rated_down,
            ),
            ~Message.id.in_(select(IntentLabel.message_id)),
            ~Message.id.in_(covered),
            ~Message.id.in_(proposed),
        )
        .order_by(Message.id.desc())
        .limit(max_messages)
    )
    with store.session() as session:
        rows = session.execute(query).all()
    return [
        UnansweredMessage(m.id, m.conversation_id, m.text, m.created_at, m.route, _reason(m, bool(down)))
        for m, down in rows
    ]


def _reason(message: Message, rated_down: bool) -> str:
    if message.route == "fallback":
        return "fallback"
    if rated_down:
        return "negative_feedback"
    return "handoff"


# grouping them ----------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Lower case, single spaces, no surrounding punctuation: "Do you sell bikes??" is "do you sell bikes"."""
    return re.sub(r"\s+", " ", text.lower()).strip(" \t.,;:!?¿¡\"'")


def greedy_clusters(vectors: np.ndarray, weights: np.ndarray, threshold: float, limit: int) -> list[np.ndarray]:
    """Rows grouped around leaders, largest group first: each round the row with the most (weighted)
    neighbours at cosine ``threshold`` or more takes all of them that are still free."""
    n = len(vectors)
    if n == 0 or limit <= 0:
        return []
    unit = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    near = (unit @ unit.T) >= threshold
    np.fill_diagonal(near, True)
    free = np.ones(n, dtype=bool)
    weight = weights.astype(np.float64)
    reach = near.astype(np.float64) @ weight  # weighted count of free neighbours, kept up to date
    groups: list[np.ndarray] = []
    while free.any() and len(groups) < limit:
        # the biggest reach wins; ties go to the earliest row (the newest message)
        leader = int(np.argmax(np.where(free, reach, -1.0)))
        members = np.flatnonzero(near[leader] & free)
        free[members] = False
        reach -= near[:, members].astype(np.float64) @ weight[members]
        groups.append(members)
    return groups


class _EmbeddingCache:
    """Vectors of texts seen before, per encoder, so reopening the view does not re-encode them."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._by_encoder: weakref.WeakKeyDictionary[Any, dict[str, np.ndarray]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def encode(self, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            known = self._by_encoder.setdefault(encoder, {})
            found = {t: known[t] for t in texts if t in known}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:  # encoded outside the lock: the encoder has its own
            found.update(zip(missing, encoder.encode(missing), strict=True))
            with self._lock:
                if len(known) + len(missing) > self.capacity:
                    known.clear()
                known.update((t, found[t]) for t in missing)
        return np.stack([found[t] for t in texts])


_cache = _EmbeddingCache()


def unanswered_clusters(
    store: TranscriptStore,
    encoder: Encoder,
    threshold: float = DEFAULT_THRESHOLD,
    limit: int = DEFAULT_LIMIT,
    *,
    faq_ids: Collection[str] | None = None,
    examples: int = EXAMPLES,
    max_messages: int = MAX_MESSAGES,
) -> list[Cluster]:
    """The unanswered messages grouped by meaning (cosine ``threshold``), largest group first."""
    messages = unanswered_messages(store, faq_ids, max_messages)
    by_text: dict[str, list[UnansweredMessage]] = {}
    for m in messages:  # newest first, so each text's first message is its newest
        by_text.setdefault(normalise(m.text), []).append(m)
    texts = [group[0].text for group in by_text.values()]
    if not texts:
        return []
    vectors = _cache.encode(encoder, texts)
    weights = np.array([len(group) for group in by_text.values()], dtype=np.float64)
    groups = list(by_text.values())
    return [_cluster([groups[i] for i in rows], vectors[rows], weights[rows], examples)
            for rows in greedy_clusters(vectors, weights, threshold, limit)]


def _cluster(groups: list[list[UnansweredMessage]], vectors: np.ndarray, weights: np.ndarray,
             examples: int) -> Cluster:
    centre = (vectors * weights[:, None]).sum(axis=0)
    typical = np.argsort(-(vectors @ centre), kind="stable")  # closest to the centre first
    ids = sorted(m.message_id for group in groups for m in group)
    shown = [groups[i][0].to_dict() | {"count": len(groups[i])} for i in typical[:examples]]
    latest = max(m.created_at for group in groups for m in group)
    return Cluster(
        id=hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:12],
        size=len(ids),
        examples=shown,
        centroid_question=groups[int(typical[0])][0].text,
        message_ids=ids,
        latest_at=iso(latest),
    )


# what agents do about them ----------------------------------------------------------------------


def check_customer_messages(store: TranscriptStore, message_ids: Iterable[int]) -> list[int]:
    """The ids, deduplicated in order; UnknownMessage or WrongMessageRole unless all are customer messages."""
    ids = list(dict.fromkeys(message_ids))
    with store.session() as session:
        roles = dict(session.execute(select(Message.id, Message.role).where(Message.id.in_(ids))).all())
    for message_id in ids:
        if message_id not in roles:
            raise UnknownMessage(message_id)
        if roles[message_id] != "customer":
            raise WrongMessageRole(f"message {message_id} is a {roles[message_id]} message, not a customer message")
    return ids


def cover_with_faq(store: TranscriptStore, message_ids: Iterable[int], faq_id: str, agent_id: int | None) -> int:
    """Record that the FAQ entry ``faq_id`` now answers these customer messages; returns how many."""
    ids = check_customer_messages(store, message_ids)
    with store.session() as session, session.begin():
        existing = {link.message_id: link for link in session.scalars(
            select(FaqGapLink).where(FaqGapLink.message_id.in_(ids)))}
        for message_id in ids:
            link = existing.get(message_id)
            if link is None:
                session.add(FaqGapLink(message_id=message_id, faq_id=faq_id, agent_id=agent_id))
            else:
                link.faq_id, link.agent_id, link.created_at = faq_id, agent_id, utcnow()
    return len(ids)


def label_as_intent(store: TranscriptStore, message_ids: Iterable[int], intent: str, agent_id: int) -> int:
    """Label these customer messages with ``intent`` (new intents allowed): examples for the next retrain."""
    ids = check_customer_messages(store, message_ids)
    for message_id in ids:
        label_intent(store, message_id, intent, agent_id)
    return len(ids)
