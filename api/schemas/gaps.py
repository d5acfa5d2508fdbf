"""The FAQ gap's bodies: clusters of unanswered questions, and what agents make of them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.base import Out, RowId
from bot.learning.faq_proposals import MAX_NOTE_CHARS

MAX_IDS = 5000

# in ------------------------------------------------------------------------------------------


class FaqFromGapIn(BaseModel):
    question: str = Field(min_length=1, max_length=500)
    answer: str = Field(min_length=1, max_length=5000)
    category: str | None = Field(None, max_length=64, description="An intent/topic name; none for any topic.")
    message_ids: list[RowId] = Field(default_factory=list, max_length=MAX_IDS,
                                   description="The customer messages the entry answers; they leave the gaps list.")


class IntentFromGapIn(BaseModel):
    intent: str = Field(pattern=r"^[a-z0-9_]{1,64}$", description="A known label or a new intent name.")
    message_ids: list[RowId] = Field(min_length=1, max_length=MAX_IDS)


# out -----------------------------------------------------------------------------------------


class GapExampleOut(Out):
    """One distinct text of a cluster (its newest message), and how many messages said it."""

    message_id: int
    conversation_id: str
    text: str
    created_at: str | None
    route: str | None
    reason: str = Field(description="fallback | negative_feedback | handoff")
    count: int


class ClusterOut(Out):
    """Unanswered messages that ask the same thing."""

    id: str
    size: int
    centroid_question: str
    examples: list[GapExampleOut] = Field(description="Distinct texts, most typical first.")
    message_ids: list[int]
    latest_at: str | None


class GapsOut(Out):
    threshold: float
    clusters: list[ClusterOut] = Field(description="Largest first.")
    categories: list[str] = Field(description="The served FAQ's categories.")


class FaqEntryOut(Out):
    id: str
    question: str
    answer: str
    category: str | None


class GapAnsweredOut(Out):
    """The entry added, the FAQ version now served, and how many messages it covers."""

    entry: FaqEntryOut
    faq_version: str
    covered: int


class IntentLabelledOut(Out):
    intent: str
    labelled: int


# FAQ proposals: agents propose, admins publish or reject ---------------------------------------


class FaqPublishIn(BaseModel):
    """What an admin changes before publishing; a field left out keeps the proposal's (a null category: none)."""

    question: str | None = Field(None, min_length=1, max_length=500)
    answer: str | None = Field(None, min_length=1, max_length=5000)
    category: str | None = Field(None, max_length=64)


class FaqRejectIn(BaseModel):
    note: str | None = Field(None, max_length=MAX_NOTE_CHARS, description="Why, for the agent who proposed it.")


class FaqProposalOut(Out):
    """An FAQ entry an agent proposed, and what became of it."""

    id: int
    question: str
    answer: str
    category: str | None
    status: str = Field(description="pending | published | rejected")
    message_ids: list[int] = Field(description="The customer messages it answers.")
    proposed_by: str = Field(description="The proposing agent's display name.")
    created_at: str | None
    decided_by: str | None = Field(description="The admin who published or rejected it.")
    decided_at: str | None
    note: str | None = Field(description="The admin's note on a rejection.")
    faq_id: str | None = Field(description="The FAQ entry it became, once published.")


class FaqProposalsOut(Out):
    items: list[FaqProposalOut] = Field(description="Newest first.")
    categories: list[str] = Field(description="The served FAQ's categories.")


class ProposalPublishedOut(Out):
    """The proposal as published, the entry added, the FAQ version now served and how many messages it covers."""

    proposal: FaqProposalOut
    entry: FaqEntryOut
    faq_version: str
    covered: int
