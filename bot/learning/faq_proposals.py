"""FAQ proposals: an agent proposes an entry for unanswered questions, an admin publishes or rejects it.

Customers get an entry only once an admin publishes it. While a proposal is pending its messages leave the
Unanswered list (someone is on them); a rejected proposal gives them back; a published one covers them with the
new entry, as an entry an admin adds directly does. The rows here are the queue and its history: what was
proposed, by whom, and what became of it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from bot.learning import gaps
from bot.store.models import Agent, FaqProposal, FaqProposalMessage, iso, utcnow
from bot.store.transcripts import TranscriptStore
from retrieval.faq import FaqEntry
from retrieval.store import FaqEntryExists, same_question

STATUSES = ("pending", "published", "rejected")
MAX_NOTE_CHARS = 1000


class UnknownProposal(LookupError):
    """No FAQ proposal has this id."""

    def __init__(self, proposal_id: int) -> None:
        super().__init__(f"no FAQ proposal {proposal_id}")


class ProposalDecided(ValueError):
    """The proposal was published or rejected already."""


def check_not_in_faq(entries: Iterable[FaqEntry], entry: FaqEntry) -> None:
    """FaqEntryExists when the served FAQ has the entry's id or question already (as adding it would)."""
    for existing in entries:
        if existing.id == entry.id or same_question(existing.question, entry.question):
            raise FaqEntryExists(existing.id)


def propose(store: TranscriptStore, entry: FaqEntry, message_ids: Iterable[int], agent_id: int) -> dict[str, Any]:
    """Store a pending proposal of ``entry`` answering these customer messages (UnknownMessage, WrongMessageRole)."""
    ids = gaps.check_customer_messages(store, message_ids)
    with store.session() as session, session.begin():
        proposal = FaqProposal(question=entry.question, answer=entry.answer, category=entry.category,
                               proposed_by=agent_id)
        session.add(proposal)
        session.flush()
        session.add_all(FaqProposalMessage(proposal_id=proposal.id, message_id=m) for m in ids)
        proposal_id = proposal.id
    return get(store, proposal_id)


def list_proposals(store: TranscriptStore, statuses: Collection[str] = STATUSES,
                   proposed_by: int | None = None) -> list[dict[str, Any]]:
    """Proposals in these statuses (of one agent, when given), newest first."""
    query = select(FaqProposal).where(FaqProposal.status.in_(list(statuses)))
    if proposed_by is not None:
        query = query.where(FaqProposal.proposed_by == proposed_by)
    with store.session() as session:
        return _shown(session, session.scalars(query.order_by(FaqProposal.id.desc())).all())


def get(store: TranscriptStore, proposal_id: int) -> dict[str, Any]:
    with store.session() as session:
        proposal = session.get(FaqProposal, proposal_id)
        if proposal is None:
            raise UnknownProposal(proposal_id)
        return _shown(session, [proposal])[0]


def claim(store: TranscriptStore, proposal_id: int, admin_id: int) -> list[int]:
    """Mark a pending proposal published by this admin (only one admin wins); its message ids.

    UnknownProposal, or ProposalDecided when it is no longer pending. Undo with ``release`` if publishing fails.
    """
    with store.session() as session, session.begin():
        claimed = session.execute(
            update(FaqProposal).where(FaqProposal.id == proposal_id, FaqProposal.status == "pending")
            .values(status="published", decided_by=admin_id, decided_at=utcnow())
            .returning(FaqProposal.id)
        ).first()
        if claimed is None:
            _refuse(session, proposal_id)
        return list(session.scalars(select(FaqProposalMessage.message_id)
                                    .where(FaqProposalMessage.proposal_id == proposal_id)
                                    .order_by(FaqProposalMessage.message_id)))


def release(store: TranscriptStore, proposal_id: int) -> None:
    """Back to pending: the entry a claimed proposal was to become could not be added."""
    with store.session() as session, session.begin():
        session.execute(update(FaqProposal).where(FaqProposal.id == proposal_id)
                        .values(status="pending", decided_by=None, decided_at=None))


def record_published(store: TranscriptStore, proposal_id: int, entry: FaqEntry) -> None:
    """The entry a claimed proposal became, as published (the admin may have edited it)."""
    with store.session() as session, session.begin():
        session.execute(update(FaqProposal).where(FaqProposal.id == proposal_id).values(
            question=entry.question, answer=entry.answer, category=entry.category, faq_id=entry.id))


def reject(store: TranscriptStore, proposal_id: int, admin_id: int, note: str | None = None) -> dict[str, Any]:
    """Reject a pending proposal, with a note for the agent; its messages are unanswered again."""
    note = (note or "").strip()[:MAX_NOTE_CHARS] or None
    with store.session() as session, session.begin():
        rejected = session.execute(
            update(FaqProposal).where(FaqProposal.id == proposal_id, FaqProposal.status == "pending")
            .values(status="rejected", decided_by=admin_id, decided_at=utcnow(), note=note)
            .returning(FaqProposal.id)
        ).first()
        if rejected is None:
            _refuse(session, proposal_id)
    return get(store, proposal_id)


def _refuse(session: Session, proposal_id: int) -> None:
    status = session.scalar(select(FaqProposal.status).where(FaqProposal.id == proposal_id))
    if status is None:
        raise UnknownProposal(proposal_id)
    raise ProposalDecided(f"the proposal was {status} already")


def _shown(session: Session, proposals: Iterable[FaqProposal]) -> list[dict[str, Any]]:
    """Proposals as the API shows them: who proposed and decided by display name, with their message ids."""
    rows = list(proposals)
    ids = [p.id for p in rows]
    messages: dict[int, list[int]] = {i: [] for i in ids}
    for proposal_id, message_id in session.execute(
        select(FaqProposalMessage.proposal_id, FaqProposalMessage.message_id)
        .where(FaqProposalMessage.proposal_id.in_(ids)).order_by(FaqProposalMessage.message_id)
    ):
        messages[proposal_id].append(message_id)
    proposer, decider = aliased(Agent), aliased(Agent)
    names = {pid: (by, decided) for pid, by, decided in session.execute(
        select(FaqProposal.id, proposer.display_name, decider.display_name)
        .join(proposer, proposer.id == FaqProposal.proposed_by)
        .outerjoin(decider, decider.id == FaqProposal.decided_by)
        .where(FaqProposal.id.in_(ids))
    )}
    return [{
        "id": p.id, "question": p.question, "answer": p.answer, "category": p.category, "status": p.status,
        "message_ids": messages[p.id], "proposed_by": names[p.id][0], "created_at": iso(p.created_at),
        "decided_by": names[p.id][1], "decided_at": iso(p.decided_at), "note": p.note, "faq_id": p.faq_id,
    } for p in rows]
