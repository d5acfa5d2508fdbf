"""The FAQ: ingest a file as the served FAQ, score the retriever on a query set, answer a gap with a new entry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from bot.learning import gaps
from bot.settings import Settings
from bot.store.transcripts import TranscriptStore
from core.sentence_encoder import SentenceEncoder, TextEncoder
from retrieval.evaluate import evaluate_retrieval, load_queries
from retrieval.faq import FaqEntry, load_faq, question_id
from retrieval.store import FaqRetriever, FaqStore, IngestReport

if TYPE_CHECKING:  # the runtime is handed in by the server; this module does not build one
    from bot.runtime import Runtime


def sentence_encoder(settings: Settings) -> SentenceEncoder:
    """The configured sentence encoder, loaded (``HELPLINE_ENCODER_PATH``, ``HELPLINE_DEVICE``)."""
    return SentenceEncoder(settings.encoder_path, device=settings.device)


def ingest_faq(settings: Settings, source: Path, encoder: TextEncoder | None = None) -> IngestReport:
    """Validate a CSV/JSONL FAQ and make it the stored FAQ (an atomic swap; a bad file changes nothing)."""
    return FaqStore(settings.faq_dir, encoder or sentence_encoder(settings)).ingest(source)


def evaluate_retrieval_files(settings: Settings, faq: Path, queries: Path,
                             encoder: TextEncoder | None = None) -> dict[str, float | int]:
    """Top-1, MRR@10 and recall@5 of a retriever over the ``faq`` file on the labelled ``queries`` file."""
    loaded = load_queries(queries)  # both files are validated before the encoder loads
    entries = load_faq(faq)
    retriever = FaqRetriever.from_entries(entries, encoder or sentence_encoder(settings))
    return evaluate_retrieval(retriever, loaded)


@dataclass(frozen=True)
class GapAnswered:
    """The FAQ entry added for unanswered messages, the stored FAQ version, and how many messages it covers."""

    entry: FaqEntry
    faq_version: str
    covered: int

    def to_dict(self) -> dict[str, Any]:
        """The body `POST /api/agent/gaps/faq` answers with."""
        entry = self.entry
        return {"entry": {"id": entry.id, "question": entry.question, "answer": entry.answer,
                          "category": entry.category}, "faq_version": self.faq_version, "covered": self.covered}


class BlankGapEntry(ValueError):
    """The question or the answer of a new FAQ entry has no text."""


def gap_entry(question: str, answer: str, category: str | None = None) -> FaqEntry:
    """The entry an agent writes for a gap (trimmed, id from the question); BlankGapEntry if a text is blank."""
    question, answer = question.strip(), answer.strip()
    if not question or not answer:
        raise BlankGapEntry("the question and the answer need some text")
    return FaqEntry(question_id(question), question, answer, (category or "").strip() or None)


def add_entry_for_gap(settings: Settings, store: TranscriptStore, encoder: TextEncoder, entry: FaqEntry,
                      message_ids: Sequence[int], agent_id: int | None) -> GapAnswered:
    """Add ``entry`` to the stored FAQ and mark the customer messages it answers as covered (blocking).

    The messages are checked first, so the FAQ is left alone when one is unknown (``UnknownMessage``) or not
    a customer's (``WrongMessageRole``); ``FaqEntryExists`` when the FAQ already has the id or question.
    The served FAQ does not change: reload it, or call ``add_faq_from_gap``.
    """
    gaps.check_customer_messages(store, message_ids)
    report = FaqStore(settings.faq_dir, encoder).add_entry(entry)
    covered = gaps.cover_with_faq(store, message_ids, entry.id, agent_id)
    return GapAnswered(entry, report.version, covered)


async def add_faq_from_gap(runtime: Runtime, question: str, answer: str, category: str | None = None,
                           message_ids: Sequence[int] = (), agent_id: int | None = None) -> GapAnswered:
    """Answer unanswered messages with a new FAQ entry that this server serves at once, replicas within seconds.

    Raises BlankGapEntry, UnknownMessage, WrongMessageRole or FaqEntryExists before the FAQ changes;
    RuntimeError while the bot is not loaded.
    """
    entry = gap_entry(question, answer, category)
    engine, store = runtime.engine, runtime.store
    if engine is None or store is None:
        raise RuntimeError("the bot is not loaded yet")
    added = await anyio.to_thread.run_sync(
        add_entry_for_gap, runtime.settings, store, engine.models.retriever.encoder, entry, list(message_ids),
        agent_id,
    )
    version = await runtime.reload_faq()
    return GapAnswered(added.entry, version, added.covered)
