"""The agent HTTP API under ``/api/agent``: inbox, transcripts, corrections, notes, tags, handoff, export.

Every endpoint needs a logged-in agent (cookie or bearer token). Database work runs in FastAPI's thread
pool (plain ``def`` handlers) or in a worker thread, never on the event loop.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.deps import CurrentAgent, RuntimeDep, SettingsDep, StoreDep
from bot.conversations.events import AGENTS
from bot.conversations.handoff import AlreadyClaimed, HandoffService, InvalidTransition, NotYourConversation
from bot.learning.training_data import training_redactor
from bot.runtime import Runtime
from bot.store.transcripts import TranscriptStore, UnknownConversation
from bot.workspace import inbox, review
from bot.workspace.presentation import conversation_summary, message_views

router = APIRouter(prefix="/api/agent", tags=["agent"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such conversation or message"}}
Status = Literal["all", "waiting", "mine", "flagged", "negative", "open", "closed"]


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


def inbox_filter(
    agent: CurrentAgent,
    status_: Annotated[Status, Query(alias="status")] = "all",
    intent: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(description="ISO date: updated on or after")] = None,
    until: Annotated[str | None, Query(description="ISO date: started on or before")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in any message")] = None,
) -> inbox.InboxFilter:
    try:
        return inbox.InboxFilter(
            status=status_, intent=intent or None, tag=tag or None, q=q or None, agent_id=agent.id,
            since=inbox.parse_bound(since), until=inbox.parse_bound(until, end=True),
        )
    except inbox.InvalidFilter as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


FilterDep = Annotated[inbox.InboxFilter, Depends(inbox_filter)]


def _message_view(store: TranscriptStore, runtime: Runtime, message_id: int) -> dict[str, Any]:
    with store.session() as session:
        views = message_views(session, runtime.faq_question, message_id=message_id)
    if not views:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no message {message_id}")
    return views[0]


@asynccontextmanager
async def _refusals() -> AsyncIterator[None]:
    """Map the handoff state machine's refusals to HTTP statuses."""
    try:
        yield
    except UnknownConversation as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation") from exc
    except NotYourConversation as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except (AlreadyClaimed, InvalidTransition) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


def _handoff(runtime: Runtime) -> HandoffService:
    if runtime.handoff is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, runtime.error or "the server is starting")
    return runtime.handoff


# who, and the inbox --------------------------------------------------------------------------


@router.get("/me")
def read_me(agent: CurrentAgent) -> dict[str, Any]:
    """The logged-in agent."""
    return agent.to_dict()


@router.get("/conversations")
def list_conversations(
    filters: FilterDep,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=inbox.MAX_LIMIT)] = inbox.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> dict[str, Any]:
    """Conversations newest first, filtered; pass ``next_cursor`` back as ``cursor`` for the next page."""
    try:
        page = inbox.list_conversations(store, filters, limit, cursor)
    except inbox.InvalidCursor as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/conversations/{conversation_id}", responses=NOT_FOUND)
def read_conversation(
    conversation_id: str, agent: CurrentAgent, store: StoreDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """The transcript, explaining every bot turn, with the conversation's notes."""
    try:
        return inbox.read_conversation(store, conversation_id, runtime.faq_question)
    except UnknownConversation as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation") from exc


@router.get("/intents")
def list_intents(agent: CurrentAgent, store: StoreDep, runtime: RuntimeDep) -> list[str]:
    """Known intent labels: the served model's and every label agents have used."""
    labels: list[str] = getattr(runtime.engine.models.classifier, "labels", []) if runtime.engine else []
    return review.known_intents(store, labels)


# corrections, notes, tags --------------------------------------------------------------------


def _reviewed(store: TranscriptStore, runtime: Runtime, message_id: int, write: Any) -> dict[str, Any]:
    try:
        write()
    except review.UnknownMessage as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no message {message_id}") from exc
    except (review.WrongMessageRole, review.InvalidLabel) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    return _message_view(store, runtime, message_id)


@router.put("/messages/{message_id}/intent", responses=NOT_FOUND)
def label_intent(
    message_id: int, body: IntentIn, agent: CurrentAgent, store: StoreDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Correct a customer message's intent; the label is kept as training data."""
    return _reviewed(store, runtime, message_id,
                     lambda: review.label_intent(store, message_id, body.intent, agent.id))


@router.put("/messages/{message_id}/review", responses=NOT_FOUND)
def review_reply(
    message_id: int, body: ReviewIn, agent: CurrentAgent, store: StoreDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Mark a bot reply good or bad."""
    return _reviewed(store, runtime, message_id,
                     lambda: review.review_reply(store, message_id, body.verdict, agent.id))


@router.post("/conversations/{conversation_id}/notes", status_code=status.HTTP_201_CREATED, responses=NOT_FOUND)
def add_note(conversation_id: str, body: NoteIn, agent: CurrentAgent, store: StoreDep) -> dict[str, Any]:
    """Add an internal note; customers never see notes."""
    try:
        return review.add_note(store, conversation_id, agent.id, body.text)
    except UnknownConversation as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation") from exc
    except review.InvalidLabel as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc


@router.put("/conversations/{conversation_id}/tags", responses=NOT_FOUND)
async def set_tags(
    conversation_id: str, body: TagsIn, agent: CurrentAgent, store: StoreDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Replace the conversation's tags; other agents' inboxes see the change live."""
    def write() -> dict[str, Any] | None:
        review.set_tags(store, conversation_id, body.tags)
        with store.session() as session:
            return conversation_summary(session, conversation_id)

    try:
        summary = await anyio.to_thread.run_sync(write)
    except UnknownConversation as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conversation") from exc
    except review.InvalidLabel as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    assert summary is not None
    await runtime.bus.publish(AGENTS, {"type": "conversation.updated", "conversation": summary})
    return summary


# handoff -------------------------------------------------------------------------------------


@router.post("/conversations/{conversation_id}/accept", responses={**NOT_FOUND, 409: {"description": "Claimed"}})
async def accept_handoff(conversation_id: str, agent: CurrentAgent, runtime: RuntimeDep) -> dict[str, Any]:
    """Claim the conversation (waiting, or still with the bot); the first accept wins."""
    async with _refusals():
        return await _handoff(runtime).accept(conversation_id, agent)


@router.post("/conversations/{conversation_id}/handback", responses={**NOT_FOUND, 403: {"description": "Not yours"}})
async def hand_back(conversation_id: str, agent: CurrentAgent, runtime: RuntimeDep) -> dict[str, Any]:
    """Give the conversation back to the bot (its agent, or an admin)."""
    async with _refusals():
        return await _handoff(runtime).hand_back(conversation_id, agent)


@router.post("/conversations/{conversation_id}/close", responses=NOT_FOUND)
async def close_conversation(conversation_id: str, agent: CurrentAgent, runtime: RuntimeDep) -> dict[str, Any]:
    """Close the conversation; a new customer message reopens it with the bot."""
    async with _refusals():
        return await _handoff(runtime).close(conversation_id, agent)


@router.post("/conversations/{conversation_id}/messages", status_code=status.HTTP_201_CREATED,
             responses={**NOT_FOUND, 403: {"description": "Not yours"}, 409: {"description": "Not with an agent"}})
async def send_message(
    conversation_id: str, body: AgentMessageIn, agent: CurrentAgent, runtime: RuntimeDep
) -> dict[str, Any]:
    """Send the customer a message (only the agent holding the conversation)."""
    text = body.text.strip()
    if not text or len(text) > runtime.settings.max_message_chars:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"a message is 1-{runtime.settings.max_message_chars} characters")
    async with _refusals():
        return await _handoff(runtime).send_agent_message(conversation_id, agent, text)


# export --------------------------------------------------------------------------------------


def _jsonl(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def _csv(rows: Iterator[dict[str, Any]], batch: int = 500) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=inbox.INBOX_EXPORT_FIELDS)
    writer.writeheader()
    for count, row in enumerate(rows, 1):
        writer.writerow(row)
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@router.get("/export")
def export_transcripts(
    filters: FilterDep, store: StoreDep, settings: SettingsDep,
    format_: Annotated[Literal["jsonl", "csv"], Query(alias="format")] = "jsonl",
) -> StreamingResponse:
    """Every message of the filtered conversations, as JSONL or CSV, streamed as a download."""
    rows = inbox.export_rows(store, filters, training_redactor(settings))
    body = _csv(rows) if format_ == "csv" else _jsonl(rows)
    media = "text/csv; charset=utf-8" if format_ == "csv" else "application/x-ndjson"
    name = f"helpline-transcripts-{datetime.now(UTC):%Y%m%d-%H%M%S}.{format_}"
    return StreamingResponse(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
