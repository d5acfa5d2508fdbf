"""Agents propose FAQ entries; admins publish them (customers are answered with them at once) or reject them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import anyio.to_thread

from bot.learning import faq_proposals
from bot.services.faq import GapAnswered, add_entry_for_gap, gap_entry
from bot.settings import Settings
from bot.store.transcripts import TranscriptStore
from core.sentence_encoder import TextEncoder
from retrieval.faq import FaqEntry

if TYPE_CHECKING:  # the runtime is handed in by the server; this module does not build one
    from bot.runtime import Runtime
    from bot.turn.engine import DialogueEngine


class _Keep:
    """The proposal's own category, as opposed to an admin's None (no category)."""


KEEP: Final = _Keep()


def _loaded(runtime: Runtime) -> tuple[DialogueEngine, TranscriptStore]:
    if runtime.engine is None or runtime.store is None:
        raise RuntimeError("the bot is not loaded yet")
    return runtime.engine, runtime.store


async def propose_faq(runtime: Runtime, question: str, answer: str, category: str | None,
                      message_ids: Sequence[int], agent_id: int) -> dict[str, Any]:
    """A pending proposal; BlankGapEntry, FaqEntryExists (the served FAQ has the question), UnknownMessage or
    WrongMessageRole first. Customers are not answered with it until an admin publishes it."""
    entry = gap_entry(question, answer, category)
    engine, store = _loaded(runtime)
    faq_proposals.check_not_in_faq(engine.models.retriever.entries, entry)
    return await anyio.to_thread.run_sync(faq_proposals.propose, store, entry, list(message_ids), agent_id)


def _publish(settings: Settings, store: TranscriptStore, encoder: TextEncoder, proposal_id: int, entry: FaqEntry,
             admin_id: int) -> GapAnswered:
    """Claim the proposal, add its entry and cover its messages (blocking); the claim is undone if adding fails."""
    message_ids = faq_proposals.claim(store, proposal_id, admin_id)  # a second admin gets ProposalDecided
    try:
        added = add_entry_for_gap(settings, store, encoder, entry, message_ids, admin_id)
    except Exception:
        faq_proposals.release(store, proposal_id)
        raise
    faq_proposals.record_published(store, proposal_id, added.entry)
    return added


async def publish_proposal(runtime: Runtime, proposal_id: int, admin_id: int, question: str | None = None,
                           answer: str | None = None, category: str | _Keep | None = KEEP,
                           ) -> tuple[dict[str, Any], GapAnswered]:
    """Publish a pending proposal, as edited by the admin: the entry is added, its messages covered and the FAQ
    reloaded here and on the replicas, as an admin's own entry is. The proposal as published, and what was added.

    UnknownProposal, ProposalDecided, BlankGapEntry, FaqEntryExists, UnknownMessage or WrongMessageRole leave the
    FAQ and the proposal as they were.
    """
    engine, store = _loaded(runtime)
    proposal = await anyio.to_thread.run_sync(faq_proposals.get, store, proposal_id)
    entry = gap_entry(question if question is not None else proposal["question"],
                      answer if answer is not None else proposal["answer"],
                      proposal["category"] if isinstance(category, _Keep) else category)
    added = await anyio.to_thread.run_sync(
        _publish, runtime.settings, store, engine.models.retriever.encoder, proposal_id, entry, admin_id
    )
    version = await runtime.reload_faq()
    published = await anyio.to_thread.run_sync(faq_proposals.get, store, proposal_id)
    return published, GapAnswered(added.entry, version, added.covered)
