"""The FAQ gap for agents under ``/api/agent/gaps``: unanswered questions by cluster, and turning a cluster
into a new FAQ entry (answerable at once) or into examples of an intent (trained at the next retrain)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from api.deps import CurrentAgent, RuntimeDep, StoreDep
from bot.learning import gaps
from bot.runtime import Runtime
from bot.turn.engine import DialogueEngine
from bot.workspace import review
from retrieval.faq import FaqEntry, question_id
from retrieval.store import FaqEntryExists, FaqStore

router = APIRouter(prefix="/api/agent/gaps", tags=["gaps"])

MAX_IDS = 5000
REFUSALS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such message"},
    409: {"description": "The FAQ already has this question"},
    422: {"description": "Not a customer message, or an invalid field"},
}


class FaqFromGapIn(BaseModel):
    question: str = Field(min_length=1, max_length=500)
    answer: str = Field(min_length=1, max_length=5000)
    category: str | None = Field(None, max_length=64, description="An intent/topic name; none for any topic.")
    message_ids: list[int] = Field(default_factory=list, max_length=MAX_IDS,
                                   description="The customer messages the entry answers; they leave the gaps list.")


class IntentFromGapIn(BaseModel):
    intent: str = Field(pattern=r"^[a-z0-9_]{1,64}$", description="A known label or a new intent name.")
    message_ids: list[int] = Field(min_length=1, max_length=MAX_IDS)


def _engine(runtime: Runtime) -> DialogueEngine:
    if runtime.engine is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, runtime.error or "the bot is still loading")
    return runtime.engine


def _refused(exc: Exception) -> HTTPException:
    if isinstance(exc, review.UnknownMessage):
        return HTTPException(status.HTTP_404_NOT_FOUND, f"no message {exc}")
    if isinstance(exc, FaqEntryExists):
        return HTTPException(status.HTTP_409_CONFLICT, str(exc))
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


@router.get("")
def list_gaps(
    agent: CurrentAgent,
    store: StoreDep,
    runtime: RuntimeDep,
    threshold: Annotated[float, Query(ge=0.3, le=1.0, description="Cosine similarity that joins a cluster")]
    = gaps.DEFAULT_THRESHOLD,
    limit: Annotated[int, Query(ge=1, le=100)] = gaps.DEFAULT_LIMIT,
) -> dict[str, Any]:
    """Unanswered customer questions (fallbacks, answers rated down, handoffs) by meaning, largest cluster first."""
    retriever = _engine(runtime).models.retriever
    clusters = gaps.unanswered_clusters(
        store, retriever.encoder, threshold, limit, faq_ids={e.id for e in retriever.entries}
    )
    return {"threshold": threshold, "clusters": [c.to_dict() for c in clusters],
            "categories": sorted(retriever.categories)}


@router.post("/faq", status_code=status.HTTP_201_CREATED, responses=REFUSALS)
async def add_faq_from_gap(body: FaqFromGapIn, agent: CurrentAgent, store: StoreDep,
                           runtime: RuntimeDep) -> dict[str, Any]:
    """Add an FAQ entry answering these messages; this server answers with it at once, replicas within seconds."""
    engine = _engine(runtime)
    question, answer = body.question.strip(), body.answer.strip()
    if not question or not answer:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "the question and the answer need some text")
    entry = FaqEntry(question_id(question), question, answer, (body.category or "").strip() or None)

    def write() -> int:
        gaps.check_customer_messages(store, body.message_ids)  # refuse before the FAQ changes
        FaqStore(runtime.settings.faq_dir, engine.models.retriever.encoder).add_entry(entry)
        return gaps.cover_with_faq(store, body.message_ids, entry.id, agent.id)

    try:
        covered = await anyio.to_thread.run_sync(write)
    except (review.UnknownMessage, review.WrongMessageRole, FaqEntryExists, ValueError) as exc:
        raise _refused(exc) from exc
    version = await runtime.reload_faq()
    return {"entry": {"id": entry.id, "question": entry.question, "answer": entry.answer,
                      "category": entry.category}, "faq_version": version, "covered": covered}


@router.post("/intent", responses=REFUSALS)
def label_gap_as_intent(body: IntentFromGapIn, agent: CurrentAgent, store: StoreDep) -> dict[str, Any]:
    """Label these customer messages with an intent (new ones allowed); they train at the next retrain."""
    try:
        labelled = gaps.label_as_intent(store, body.message_ids, body.intent, agent.id)
    except (review.UnknownMessage, review.WrongMessageRole, review.InvalidLabel) as exc:
        raise _refused(exc) from exc
    return {"intent": body.intent, "labelled": labelled}
