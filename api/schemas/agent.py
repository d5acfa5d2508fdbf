"""The agent API's bodies: inbox rows, transcripts with the bot's explanations, notes, and what agents send."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.base import Out
from bot.workspace import review

# in ------------------------------------------------------------------------------------------


class IntentIn(BaseModel):
    intent: str = Field(pattern=r"^[a-z0-9_]{1,64}$", description="A known label or a new intent name.")


class ReviewIn(BaseModel):
    verdict: Literal["good", "bad"]


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=review.MAX_NOTE_CHARS)


class TagsIn(BaseModel):
    tags: list[Annotated[str, Field(min_length=1, max_length=review.MAX_TAG_CHARS)]] = Field(max_length=50)


class AgentMessageIn(BaseModel):
    text: str = Field(min_length=1)


# out (the shapes of bot.workspace.presentation and inbox) ------------------------------------


class ConversationOut(Out):
    """A conversation's inbox row (also what agents' events carry)."""

    id: str
    state: str = Field(description="bot | waiting | agent | closed")
    assigned_agent: str | None = Field(description="The display name of the agent holding it.")
    created_at: str
    updated_at: str
    last_message: str | None
    message_count: int
    flagged: bool = Field(description="A fallback or a low-confidence answer happened.")
    negative_feedback: bool
    tags: list[str]


class InboxPage(Out):
    items: list[ConversationOut]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page; null on the last.")


class MessageOut(Out):
    """A message, with the explanation of a bot turn, the customer's rating and the agents' corrections."""

    id: int
    conversation_id: str
    role: str = Field(description="customer | bot | agent | system")
    text: str
    created_at: str
    agent: str | None = Field(description="The agent who wrote it (agent messages).")
    reply_id: str | None
    in_reply_to: int | None
    intent: str | None
    confidence: float | None
    ranking: list[Any] = Field(description="The classifier's [intent, probability] pairs, most likely first.")
    route: str | None
    faq_id: str | None
    faq_question: str | None
    score: float | None
    model_version: str | None
    latency_ms: float | None
    suggestions: list[str]
    rating: str | None = Field(description="The customer's: up | down.")
    label: str | None = Field(description="The intent an agent corrected it to.")
    review: str | None = Field(description="An agent's verdict on a bot reply: good | bad.")
    action: str | None = Field(None, description="The custom action (or response) that said it.")
    actions: dict[str, Any] | None = Field(None, description=(
        "On the first reply of a turn answered by custom actions: the actions run, slots_before, slots_after, "
        "the tracker events they added, seconds, and the failure (kind, reason) or the form rejected, if any."))
    buttons: list[dict[str, Any]] = Field(default_factory=list, description="Rasa buttons: title and payload.")


class NoteOut(Out):
    """An internal note (customers never see notes)."""

    id: int
    agent: str
    text: str
    created_at: str


class TranscriptOut(Out):
    conversation: ConversationOut
    messages: list[MessageOut]
    notes: list[NoteOut]
    slots: dict[str, Any] = Field(default_factory=dict, description=(
        "The conversation's Rasa slots now (empty for a company without a Rasa side)."))
    active_form: str | None = Field(None, description="The Rasa form the conversation is in, if any.")
