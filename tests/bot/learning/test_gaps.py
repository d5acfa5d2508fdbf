"""Unanswered questions on real SQLite and real PostgreSQL, clustered with the real sentence encoder."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from bot.learning import gaps
from bot.store.transcripts import BotReplyRecord, TranscriptStore
from bot.workspace import review
from bot.workspace.accounts import Accounts
from core.sentence_encoder import SentenceEncoder

BIKES = ["Do you sell bicycles?", "do you sell bikes", "Do you sell bikes??", "do you have bikes for sale"]
KAYAKS = ["Do you rent kayaks?", "can i rent a kayak", "kayak rental?"]
WIFI = "What is the wifi password in your store?"


@pytest.fixture
def agent_id(store: TranscriptStore) -> int:
    return Accounts(store).add_agent("maya", "correct horse battery", display_name="Maya").id


def turn(store: TranscriptStore, text: str, route: str, intent: str = "out_of_scope",
         conversation: str | None = None, rating: str | None = None) -> int:
    """A customer message and the bot's reply, logged as the engine logs them; returns the message id."""
    if conversation is None:
        conversation, _ = store.open_conversation()
    reply_id = uuid.uuid4().hex
    asked, _ = store.log_turn(conversation, text, None, BotReplyRecord(reply_id, "…", intent, 0.4, route=route))
    if rating:
        store.record_feedback(conversation, reply_id, rating)
    return asked


def test_fallbacks_down_ratings_and_handoffs_are_unanswered(store: TranscriptStore) -> None:
    fallback = turn(store, "Do you sell bicycles?", "fallback")
    rated_down = turn(store, "How long does a refund take?", "faq", "refunds", rating="down")
    turn(store, "Where is my order?", "faq", "orders", rating="up")  # answered well
    turn(store, "hello", "smalltalk", "greeting")
    after_fallbacks = turn(store, "kayak rental?", "handoff", "out_of_scope")  # two fallbacks in a row
    conversation, _ = store.open_conversation()
    turn(store, "hi there", "smalltalk", "greeting", conversation)
    before_request = turn(store, "Can I pay with crypto?", "faq", "payments", conversation)
    turn(store, "I want to talk to a person", "handoff", "human_agent", conversation)  # the request itself

    found = {m.message_id: m.reason for m in gaps.unanswered_messages(store)}

    assert found == {
        fallback: "fallback", rated_down: "negative_feedback", after_fallbacks: "handoff", before_request: "handoff",
    }
    newest_first = [m.message_id for m in gaps.unanswered_messages(store)]
    assert newest_first == sorted(newest_first, reverse=True)
    assert [m.message_id for m in gaps.unanswered_messages(store, max_messages=2)] == newest_first[:2]


def test_questions_that_mean_the_same_form_one_cluster_largest_first(
    store: TranscriptStore, encoder: SentenceEncoder
) -> None:
    ids = {text: turn(store, text, "fallback") for text in [*BIKES, *KAYAKS, WIFI]}
    again = turn(store, "Do you sell bikes?", "fallback")  # the same text twice counts twice

    clusters = gaps.unanswered_clusters(store, encoder)

    assert [c.size for c in clusters] == [5, 3, 1]
    bikes, kayaks, wifi = clusters
    assert bikes.message_ids == sorted([ids[t] for t in BIKES] + [again])
    assert kayaks.message_ids == sorted(ids[t] for t in KAYAKS)
    assert wifi.centroid_question == WIFI and wifi.examples[0]["message_id"] == ids[WIFI]
    assert bikes.centroid_question in [*BIKES, "Do you sell bikes?"]
    # examples are distinct texts (case and punctuation aside; the newest wording shown), with how often asked
    shown = {e["text"]: e["count"] for e in bikes.examples}
    assert shown == {"Do you sell bikes?": 3, "Do you sell bicycles?": 1, "do you have bikes for sale": 1}
    assert set(bikes.examples[0]) >= {"message_id", "text", "created_at", "route", "reason", "count"}
    assert bikes.examples[0]["route"] == "fallback" and bikes.latest_at is not None
    assert [c.size for c in gaps.unanswered_clusters(store, encoder, limit=2)] == [5, 3]
    strict = gaps.unanswered_clusters(store, encoder, threshold=0.99)
    assert [c.size for c in strict][:2] == [3, 1]  # identical texts only
    assert gaps.unanswered_clusters(store, encoder)[0].id == bikes.id  # stable while nothing changes


def test_covered_messages_leave_the_list_until_their_entry_is_gone(
    store: TranscriptStore, encoder: SentenceEncoder, agent_id: int
) -> None:
    bikes = [turn(store, text, "fallback") for text in BIKES]
    kayak = turn(store, KAYAKS[0], "fallback")

    assert gaps.cover_with_faq(store, [*bikes, bikes[0]], "sell-bikes", agent_id) == 4

    assert [c.message_ids for c in gaps.unanswered_clusters(store, encoder)] == [[kayak]]
    assert [c.message_ids for c in gaps.unanswered_clusters(store, encoder, faq_ids={"sell-bikes"})] == [[kayak]]
    # the FAQ was re-ingested without that entry: the questions are unanswered again
    assert len(gaps.unanswered_clusters(store, encoder, faq_ids={"other"})) == 2
    gaps.cover_with_faq(store, bikes[:1], "bikes-v2", agent_id)  # covering again moves the link
    assert len(gaps.unanswered_messages(store, faq_ids={"bikes-v2"})) == 4


def test_labelling_a_cluster_as_an_intent_makes_training_examples(store: TranscriptStore, agent_id: int) -> None:
    kayaks = [turn(store, text, "fallback") for text in KAYAKS]

    assert gaps.label_as_intent(store, kayaks, "kayak_rental", agent_id) == 3  # a new intent

    assert sorted(review.labelled_examples(store)) == sorted((text, "kayak_rental") for text in KAYAKS)
    assert gaps.unanswered_messages(store) == []
    assert "kayak_rental" in review.known_intents(store)


def test_only_customer_messages_can_be_covered_or_labelled(store: TranscriptStore, agent_id: int) -> None:
    asked = turn(store, WIFI, "fallback")
    with pytest.raises(review.WrongMessageRole):
        gaps.cover_with_faq(store, [asked, asked + 1], "wifi", agent_id)  # the bot's reply
    with pytest.raises(review.UnknownMessage):
        gaps.label_as_intent(store, [asked, 999_999], "wifi", agent_id)
    with pytest.raises(review.InvalidLabel):
        gaps.label_as_intent(store, [asked], "Wi-Fi", agent_id)
    assert len(gaps.unanswered_messages(store)) == 1  # nothing was written


def test_greedy_clusters_respect_the_threshold_and_shrink() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16))
    vectors = np.vstack([c + rng.normal(scale=0.05, size=(n, 16)) for c, n in zip(centres, (2, 7, 1, 4), strict=True)])
    groups = gaps.greedy_clusters(vectors, np.ones(len(vectors)), threshold=0.9, limit=10)
    assert [len(g) for g in groups] == [7, 4, 2, 1]
    assert sorted(int(i) for g in groups for i in g) == list(range(14))
    assert gaps.greedy_clusters(vectors, np.ones(len(vectors)), 0.9, limit=1)[0].tolist() == list(range(2, 9))
    assert gaps.greedy_clusters(vectors[:0], np.ones(0), 0.9, 5) == []
