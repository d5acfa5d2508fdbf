"""The agent HTTP API under ``/api/agent``: inbox, transcripts, corrections, notes, tags, handoff, export.

Every endpoint needs a logged-in agent (cookie or bearer token): the router requires it. Database work
runs in FastAPI's thread pool (plain ``def`` handlers) or in a worker thread, never on the event loop.
Refusals of the layers below (unknown conversation, not yours, already claimed...) become statuses in
``api.errors``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from fastapi.responses import StreamingResponse

from api.deps import AGENTS_ONLY, CurrentAgent, HandoffDep, RuntimeDep, SettingsDep, StoreDep
from api.schemas.agent import (
    AgentMessageIn,
    ConversationOut,
    InboxPage,
    IntentIn,
    MessageOut,
    NoteIn,
    NoteOut,
    ReviewIn,
    TagsIn,
    TranscriptOut,
)
from api.schemas.auth import AgentOut
from api.schemas.base import MAX_ROW_ID, problem
from bot.conversations.events import AGENTS
from bot.privacy import training_redactor
from bot.runtime import Runtime
from bot.store.transcripts import TranscriptStore
from bot.workspace import inbox, review
from bot.workspace.exports import AGENT_EXPORT_FIELDS, export_rows
from bot.workspace.presentation import conversation_summary, message_views
from bot.workspace.spreadsheet import text_row

router = APIRouter(prefix="/api/agent", tags=["agent"], dependencies=AGENTS_ONLY)

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem("No such conversation or message")}
NOT_YOURS: dict[int | str, dict[str, Any]] = {403: problem("Not yours")}
NOT_WITH_AN_AGENT: dict[int | str, dict[str, Any]] = {409: problem("Not with an agent")}
MessageId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The message's id.")]
Status = Literal["all", "waiting", "mine", "flagged", "negative", "open", "closed"]


def inbox_filter(
    agent: CurrentAgent,
    status_: Annotated[Status, Query(alias="status")] = "all",
    intent: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(description="ISO date: updated on or after")] = None,
    until: Annotated[str | None, Query(description="ISO date: started on or before")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in any message")] = None,
) -> inbox.InboxFilter:
    """The inbox filter of the query string (``InvalidFilter``, a 422, for a date that is not one)."""
    return inbox.InboxFilter(
        status=status_, intent=intent or None, tag=tag or None, q=q or None, agent_id=agent.id,
        since=inbox.parse_bound(since), until=inbox.parse_bound(until, end=True),
    )


FilterDep = Annotated[inbox.InboxFilter, Depends(inbox_filter)]


def _message_view(store: TranscriptStore, runtime: Runtime, message_id: int) -> dict[str, Any]:
    with store.session() as session:
        views = message_views(session, runtime.faq_question, message_id=message_id)
    if not views:
        raise review.UnknownMessage(message_id)
    return views[0]


# who, and the inbox --------------------------------------------------------------------------


@router.get("/me", response_model=AgentOut)
def read_me(agent: CurrentAgent) -> dict[str, Any]:
    """The logged-in agent."""
    return agent.to_dict()


@router.get("/conversations", response_model=InboxPage)
def list_conversations(
    filters: FilterDep,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=inbox.MAX_LIMIT)] = inbox.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> dict[str, Any]:
    """Conversations newest first, filtered; pass ``next_cursor`` back as ``cursor`` for the next page."""
    page = inbox.list_conversations(store, filters, limit, cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/conversations/{conversation_id}", response_model=TranscriptOut, responses=NOT_FOUND)
def read_conversation(conversation_id: str, store: StoreDep, runtime: RuntimeDep) -> dict[str, Any]:
    """The transcript, explaining every bot turn, with the conversation's notes and its Rasa slots."""
    transcript = inbox.read_conversation(store, conversation_id, runtime.faq_question)
    assistant = runtime.engine.assistant if runtime.engine else None
    if assistant is not None:
        tracker = assistant.tracker(conversation_id, store.rasa_events(conversation_id))
        transcript.update(slots=tracker.slots, active_form=tracker.active_loop_name)
    return transcript


@router.get("/intents")
def list_intents(store: StoreDep, runtime: RuntimeDep) -> list[str]:
    """Known intent labels: the served model's and every label agents have used."""
    labels: list[str] = getattr(runtime.engine.models.classifier, "labels", []) if runtime.engine else []
    return review.known_intents(store, labels)


# corrections, notes, tags --------------------------------------------------------------------


@router.put("/messages/{message_id}/intent", response_model=MessageOut, responses=NOT_FOUND)
def label_intent(
    message_id: MessageId, body: IntentIn, agent: CurrentAgent, store: StoreDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Correct a customer message's intent; the label is kept as training data."""
    review.label_intent(store, message_id, body.intent, agent.id)
    return _message_view(store, runtime, message_id)


@router.put("/messages/{message_id}/review", response_model=MessageOut, responses=NOT_FOUND)
def review_reply(
    message_id: MessageId, body: ReviewIn, agent: CurrentAgent, store: StoreDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Mark a bot reply good or bad."""
    review.review_reply(store, message_id, body.verdict, agent.id)
    return _message_view(store, runtime, message_id)


@router.post("/conversations/{conversation_id}/notes", status_code=status.HTTP_201_CREATED,
             response_model=NoteOut, responses=NOT_FOUND)
def add_note(conversation_id: str, body: NoteIn, agent: CurrentAgent, store: StoreDep) -> dict[str, Any]:
    """Add an internal note; customers never see notes."""
    return review.add_note(store, conversation_id, agent.id, body.text)


@router.put("/conversations/{conversation_id}/tags", response_model=ConversationOut, responses=NOT_FOUND)
async def set_tags(conversation_id: str, body: TagsIn, store: StoreDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Replace the conversation's tags; other agents' inboxes see the change live."""
    def write() -> dict[str, Any] | None:
        review.set_tags(store, conversation_id, body.tags)
        with store.session() as session:
            return conversation_summary(session, conversation_id)

    summary = await anyio.to_thread.run_sync(write)
    assert summary is not None
    await runtime.bus.publish(AGENTS, {"type": "conversation.updated", "conversation": summary})
    return summary


# handoff -------------------------------------------------------------------------------------


@router.post("/conversations/{conversation_id}/accept", response_model=ConversationOut,
             responses={**NOT_FOUND, 409: problem("Claimed")})
async def accept_handoff(conversation_id: str, agent: CurrentAgent, handoff: HandoffDep) -> dict[str, Any]:
    """Claim the conversation (waiting, or still with the bot); the first accept wins."""
    return await handoff.accept(conversation_id, agent)


@router.post("/conversations/{conversation_id}/handback", response_model=ConversationOut,
             responses={**NOT_FOUND, **NOT_YOURS, **NOT_WITH_AN_AGENT})
async def hand_back(conversation_id: str, agent: CurrentAgent, handoff: HandoffDep) -> dict[str, Any]:
    """Give the conversation back to the bot (its agent, or an admin)."""
    return await handoff.hand_back(conversation_id, agent)


@router.post("/conversations/{conversation_id}/close", response_model=ConversationOut,
             responses={**NOT_FOUND, **NOT_YOURS, 409: problem("Closed already")})
async def close_conversation(conversation_id: str, agent: CurrentAgent, handoff: HandoffDep) -> dict[str, Any]:
    """Close the conversation; a new customer message reopens it with the bot."""
    return await handoff.close(conversation_id, agent)


@router.post("/conversations/{conversation_id}/messages", status_code=status.HTTP_201_CREATED,
             response_model=MessageOut,
             responses={**NOT_FOUND, **NOT_YOURS, **NOT_WITH_AN_AGENT})
async def send_message(
    conversation_id: str, body: AgentMessageIn, agent: CurrentAgent, handoff: HandoffDep, settings: SettingsDep
) -> dict[str, Any]:
    """Send the customer a message (only the agent holding the conversation)."""
    text = body.text.strip()
    if not text or len(text) > settings.max_message_chars:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"a message is 1-{settings.max_message_chars} characters")
    return await handoff.send_agent_message(conversation_id, agent, text)


# export --------------------------------------------------------------------------------------

EXPORT_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


def _jsonl(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def _csv(rows: Iterator[dict[str, Any]], batch: int = 500) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=AGENT_EXPORT_FIELDS)
    writer.writeheader()
    for count, row in enumerate(rows, 1):
        writer.writerow(text_row(row))  # agents open this in a spreadsheet
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@router.get("/export", response_class=StreamingResponse, responses={200: {
    "description": "A download: one JSON object per message (JSONL), or CSV with a header row.",
    "content": {media.split(";")[0]: {"schema": {"type": "string"}} for media in EXPORT_TYPES.values()},
}})
def export_transcripts(
    filters: FilterDep, store: StoreDep, settings: SettingsDep,
    format_: Annotated[Literal["jsonl", "csv"], Query(alias="format")] = "jsonl",
) -> StreamingResponse:
    """Every message of the filtered conversations, as JSONL or CSV, streamed as a download."""
    rows = export_rows(store, training_redactor(settings), filters, agent_fields=True)
    body = _csv(rows) if format_ == "csv" else _jsonl(rows)
    name = f"helpline-transcripts-{datetime.now(UTC):%Y%m%d-%H%M%S}.{format_}"
    return StreamingResponse(body, media_type=EXPORT_TYPES[format_],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
