"""The FAQ gap for agents under ``/api/agent/gaps``: unanswered questions by cluster, and turning a cluster
into a new FAQ entry (an admin's answers at once; an agent's is a proposal an admin publishes) or into examples
of an intent (trained at the next retrain)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import JSONResponse

from api.deps import AGENTS_ONLY, CurrentAgent, RetrieverDep, RuntimeDep, StoreDep, get_engine
from api.schemas.base import problem
from api.schemas.gaps import (
    FaqFromGapIn,
    FaqProposalOut,
    FaqProposalsOut,
    GapAnsweredOut,
    GapsOut,
    IntentFromGapIn,
    IntentLabelledOut,
)
from bot.learning import faq_proposals as proposals
from bot.learning import gaps
from bot.services import faq, faq_proposals

router = APIRouter(prefix="/api/agent/gaps", tags=["gaps"], dependencies=AGENTS_ONLY)

NOT_CUSTOMERS: dict[int | str, dict[str, Any]] = {
    404: problem("No such message"),
    422: problem("Not a customer message, or an invalid field"),
}


@router.get("", response_model=GapsOut)
def list_gaps(
    store: StoreDep,
    retriever: RetrieverDep,
    threshold: Annotated[float, Query(ge=0.3, le=1.0, description="Cosine similarity that joins a cluster")]
    = gaps.DEFAULT_THRESHOLD,
    limit: Annotated[int, Query(ge=1, le=100)] = gaps.DEFAULT_LIMIT,
) -> dict[str, Any]:
    """Unanswered customer questions (fallbacks, answers rated down, handoffs) by meaning, largest cluster first."""
    clusters = gaps.unanswered_clusters(
        store, retriever.encoder, threshold, limit, faq_ids={e.id for e in retriever.entries}
    )
    return {"threshold": threshold, "clusters": [c.to_dict() for c in clusters],
            "categories": sorted(retriever.categories)}


@router.post("/faq", status_code=status.HTTP_201_CREATED, response_model=GapAnsweredOut,
             responses={**NOT_CUSTOMERS, 409: problem("The FAQ already has this question"),
                        422: problem("Not a customer message, a blank question or answer, or an invalid field"),
                        202: {"model": FaqProposalOut, "description": "An agent's entry: proposed, for an admin to "
                                                                      "publish"}},
             dependencies=[Depends(get_engine)])  # the entry is encoded with the served model's encoder
async def add_faq_from_gap(body: FaqFromGapIn, agent: CurrentAgent, runtime: RuntimeDep) -> Any:
    """An admin's entry is added: this server answers with it at once, replicas within seconds (201). An agent's
    is a proposal (202): customers get it once an admin publishes it, and its messages wait with it."""
    if not agent.is_admin:
        proposal = await faq_proposals.propose_faq(
            runtime, body.question, body.answer, body.category, body.message_ids, agent.id
        )
        return JSONResponse(FaqProposalOut.model_validate(proposal).model_dump(), status.HTTP_202_ACCEPTED)
    answered = await faq.add_faq_from_gap(
        runtime, body.question, body.answer, body.category, body.message_ids, agent.id
    )
    return answered.to_dict()


@router.get("/proposals", response_model=FaqProposalsOut)
def list_my_proposals(agent: CurrentAgent, store: StoreDep, retriever: RetrieverDep) -> dict[str, Any]:
    """The FAQ entries you proposed, newest first: pending, published (with the entry) or rejected (with the note)."""
    return {"items": proposals.list_proposals(store, proposed_by=agent.id),
            "categories": sorted(retriever.categories)}


@router.post("/intent", response_model=IntentLabelledOut, responses=NOT_CUSTOMERS)
def label_gap_as_intent(body: IntentFromGapIn, agent: CurrentAgent, store: StoreDep) -> dict[str, Any]:
    """Label these customer messages with an intent (new ones allowed); they train at the next retrain."""
    labelled = gaps.label_as_intent(store, body.message_ids, body.intent, agent.id)
    return {"intent": body.intent, "labelled": labelled}
