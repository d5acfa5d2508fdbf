"""FAQ proposals for admins under ``/api/admin/faq-proposals``: the queue of entries agents proposed, published
(customers are answered with them at once, on every replica) or rejected with a note for the agent."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, status

from api.deps import ADMINS_ONLY, AdminAgent, RetrieverDep, RuntimeDep, StoreDep, get_engine
from api.schemas.base import MAX_ROW_ID, problem
from api.schemas.gaps import FaqProposalOut, FaqProposalsOut, FaqPublishIn, FaqRejectIn, ProposalPublishedOut
from bot.learning import faq_proposals as proposals
from bot.services import faq_proposals

router = APIRouter(prefix="/api/admin/faq-proposals", tags=["admin"], dependencies=ADMINS_ONLY)

ProposalId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The proposal's id.")]
NO_PROPOSAL: dict[int | str, dict[str, Any]] = {404: problem("No such proposal")}
DECIDED: dict[int | str, dict[str, Any]] = {409: problem("Published or rejected already")}


@router.get("", response_model=FaqProposalsOut)
def list_proposals(
    store: StoreDep,
    retriever: RetrieverDep,
    status_: Annotated[Literal["pending", "published", "rejected", "all"], Query(alias="status")] = "pending",
) -> dict[str, Any]:
    """Proposals, newest first: those waiting for a decision unless told otherwise."""
    statuses = proposals.STATUSES if status_ == "all" else (status_,)
    return {"items": proposals.list_proposals(store, statuses), "categories": sorted(retriever.categories)}


@router.post("/{proposal_id}/publish", status_code=status.HTTP_201_CREATED, response_model=ProposalPublishedOut,
             responses={**NO_PROPOSAL, 409: problem("Published or rejected already, or the FAQ has this question"),
                        422: problem("A blank question or answer, or an invalid field")},
             dependencies=[Depends(get_engine)])  # the entry is encoded with the served model's encoder
async def publish_proposal(proposal_id: ProposalId, admin: AdminAgent, runtime: RuntimeDep,
                           body: FaqPublishIn | None = None) -> dict[str, Any]:
    """Publish it, with the question, answer or category edited if given: customers are answered with it at once
    and its messages leave the Unanswered list, as with an entry an admin adds."""
    edits = body.model_dump(include=body.model_fields_set) if body is not None else {}
    published, answered = await faq_proposals.publish_proposal(runtime, proposal_id, admin.id, **edits)
    return {"proposal": published, **answered.to_dict()}


@router.post("/{proposal_id}/reject", response_model=FaqProposalOut, responses={**NO_PROPOSAL, **DECIDED})
async def reject_proposal(proposal_id: ProposalId, admin: AdminAgent, store: StoreDep,
                          body: FaqRejectIn | None = None) -> dict[str, Any]:
    """Reject it, with a note for the agent; its messages are in the Unanswered list again."""
    return await anyio.to_thread.run_sync(
        proposals.reject, store, proposal_id, admin.id, body.note if body is not None else None
    )
