"""FAQ proposals on real SQLite and real PostgreSQL: proposed, listed, published once, rejected with a note; their
messages wait outside the Unanswered list while pending."""

from __future__ import annotations

import pytest

from bot.learning import faq_proposals as proposals
from bot.learning import gaps
from bot.services.faq import gap_entry
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts
from bot.workspace.review import UnknownMessage, WrongMessageRole
from retrieval.faq import FaqEntry
from retrieval.store import FaqEntryExists
from tests.bot.learning.test_gaps import turn

KAYAK = gap_entry("Can I rent a kayak?", "No, we only sell them.", "products")


@pytest.fixture
def people(store: TranscriptStore) -> tuple[int, int]:
    accounts = Accounts(store)
    return (accounts.add_agent("maya", "correct horse battery", display_name="Maya").id,
            accounts.add_agent("root", "correct horse battery", "admin", "Ada").id)


def unanswered(store: TranscriptStore) -> set[int]:
    return {m.message_id for m in gaps.unanswered_messages(store)}


def test_a_proposal_waits_with_its_messages_until_an_admin_decides(store: TranscriptStore,
                                                                     people: tuple[int, int]) -> None:
    maya, root = people
    asked = [turn(store, text, "fallback") for text in ("Do you rent kayaks?", "kayak rental?")]
    other = turn(store, "Do you sell bikes?", "fallback")

    proposal = proposals.propose(store, KAYAK, [*asked, asked[0]], maya)

    assert {k: proposal[k] for k in ("question", "answer", "category", "status", "proposed_by", "decided_by")} == {
        "question": "Can I rent a kayak?", "answer": "No, we only sell them.", "category": "products",
        "status": "pending", "proposed_by": "Maya", "decided_by": None,
    }
    assert proposal["message_ids"] == sorted(asked) and proposal["faq_id"] is None and proposal["created_at"]
    assert unanswered(store) == {other}  # someone is on the kayak questions
    assert [p["id"] for p in proposals.list_proposals(store, ("pending",))] == [proposal["id"]]
    assert proposals.list_proposals(store, proposed_by=root) == []

    rejected = proposals.reject(store, proposal["id"], root, "  We do not answer rental questions.  ")

    assert (rejected["status"], rejected["decided_by"], rejected["note"]) == (
        "rejected", "Ada", "We do not answer rental questions.")
    assert rejected["decided_at"] and unanswered(store) == {*asked, other}  # the questions are back
    with pytest.raises(proposals.ProposalDecided, match="rejected already"):
        proposals.claim(store, proposal["id"], root)
    with pytest.raises(proposals.ProposalDecided):
        proposals.reject(store, proposal["id"], root)


def test_a_proposal_is_published_once_and_a_failed_publish_is_undone(store: TranscriptStore,
                                                                      people: tuple[int, int]) -> None:
    maya, root = people
    asked = turn(store, "Do you rent kayaks?", "fallback")
    proposal = proposals.propose(store, KAYAK, [asked], maya)

    assert proposals.claim(store, proposal["id"], root) == [asked]
    with pytest.raises(proposals.ProposalDecided, match="published already"):  # a second admin loses
        proposals.claim(store, proposal["id"], root)
    proposals.release(store, proposal["id"])  # adding the entry failed: pending again, nobody decided
    assert {k: proposals.get(store, proposal["id"])[k] for k in ("status", "decided_by", "decided_at")} == {
        "status": "pending", "decided_by": None, "decided_at": None}

    proposals.claim(store, proposal["id"], root)
    edited = FaqEntry("kayak", "Do you rent kayaks?", "No: kayaks are for sale only.", None)
    proposals.record_published(store, proposal["id"], edited)

    shown = proposals.get(store, proposal["id"])
    assert (shown["status"], shown["faq_id"], shown["question"], shown["category"], shown["decided_by"]) == (
        "published", "kayak", "Do you rent kayaks?", None, "Ada")
    assert [p["status"] for p in proposals.list_proposals(store, proposed_by=maya)] == ["published"]


def test_what_cannot_be_proposed(store: TranscriptStore, people: tuple[int, int]) -> None:
    maya, _ = people
    asked = turn(store, "Do you rent kayaks?", "fallback")
    with pytest.raises(UnknownMessage):
        proposals.propose(store, KAYAK, [10**9], maya)
    with pytest.raises(WrongMessageRole):
        proposals.propose(store, KAYAK, [asked + 1], maya)  # the bot's reply
    with pytest.raises(proposals.UnknownProposal):
        proposals.get(store, 10**9)
    with pytest.raises(proposals.UnknownProposal):
        proposals.reject(store, 10**9, maya)
    with pytest.raises(FaqEntryExists):  # the served FAQ has the question already, in other case and spacing
        proposals.check_not_in_faq([FaqEntry("k1", "can I  rent a KAYAK?", "No.")], KAYAK)
    proposals.check_not_in_faq([FaqEntry("k1", "Can I buy a kayak?", "Yes.")], KAYAK)
    assert proposals.list_proposals(store) == []
