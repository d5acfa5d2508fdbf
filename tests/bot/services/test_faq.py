"""The FAQ workflows in-process: ingest a file, score the retriever, answer a gap with a new entry."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from bot.learning import gaps
from bot.runtime import Runtime
from bot.services.database import transcript_store
from bot.services.faq import (
    add_entry_for_gap,
    add_faq_from_gap,
    evaluate_retrieval_files,
    gap_entry,
    ingest_faq,
)
from bot.settings import Settings
from bot.store.transcripts import BotReplyRecord, TranscriptStore
from bot.workspace.accounts import Accounts
from bot.workspace.review import UnknownMessage, WrongMessageRole
from core.sentence_encoder import SentenceEncoder
from retrieval.faq import question_id
from retrieval.store import FaqEntryExists, FaqStore
from tests.retrieval.faqs import write_two_question_eval

BIKES = "Do you sell bicycles?"


def test_ingest_replaces_the_faq_and_a_bad_file_changes_nothing(
        empty_settings: Settings, tmp_path: Path, encoder: SentenceEncoder) -> None:
    good = tmp_path / "faq.csv"
    good.write_text("question,answer,category\nDo you ship abroad?,Yes to the EU and UK.,shipping\n")
    report = ingest_faq(empty_settings, good, encoder)
    assert report.count == 1 and report.categories == ["shipping"]
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nHow do I pay?,By card.\nWhere is my order?,\n,No question.\n")
    with pytest.raises(ValueError, match=r"bad\.csv line 3") as raised:
        ingest_faq(empty_settings, bad, encoder)
    assert [str(other) for other in getattr(raised.value, "others", ())] == [
        "bad.csv line 4: missing 'question'"]
    assert FaqStore(empty_settings.faq_dir, encoder).version() == report.version
    kept = (empty_settings.faq_dir / "faq.jsonl").read_text()
    assert "Do you ship abroad?" in kept and "How do I pay?" not in kept


def test_evaluate_retrieval_files_scores_the_retriever(empty_settings: Settings, tmp_path: Path,
                                                       encoder: SentenceEncoder) -> None:
    faq, queries = write_two_question_eval(tmp_path)
    figures = evaluate_retrieval_files(empty_settings, faq, queries, encoder)
    assert figures == {"top1": 1.0, "mrr@10": 1.0, "recall@5": 1.0, "n": 2}
    with pytest.raises(FileNotFoundError, match=r"missing\.jsonl"):
        evaluate_retrieval_files(empty_settings, faq, tmp_path / "missing.jsonl", encoder)


def test_a_gap_entry_is_trimmed_and_needs_both_texts() -> None:
    entry = gap_entry(f"  {BIKES} ", " No, only parts. ", "  ")
    assert (entry.id, entry.question, entry.answer, entry.category) == (question_id(BIKES), BIKES,
                                                                        "No, only parts.", None)
    assert gap_entry(BIKES, "No.", " shop ").category == "shop"
    with pytest.raises(ValueError, match="need some text"):
        gap_entry("   ", "No.")


def unanswered(store: TranscriptStore, text: str) -> tuple[int, int]:
    """A customer message the bot fell back on: (customer message id, bot message id)."""
    conversation, _ = store.open_conversation()
    asked, replied = store.log_turn(conversation, text, None, BotReplyRecord(
        uuid.uuid4().hex, "…", "out_of_scope", 0.2, route="fallback"))
    assert replied is not None
    return asked, replied


def test_adding_an_entry_for_a_gap_covers_its_messages_and_refuses_before_the_faq_changes(
        served_settings: Settings, encoder: SentenceEncoder) -> None:
    faq = FaqStore(served_settings.faq_dir, encoder)
    with transcript_store(served_settings) as store:
        agent = Accounts(store).add_agent("maya", "correct horse battery").id
        first, bot_message = unanswered(store, BIKES)
        second, _ = unanswered(store, "do you sell bikes")
        before = faq.version()

        with pytest.raises(UnknownMessage):
            add_entry_for_gap(served_settings, store, encoder, gap_entry(BIKES, "No."), [first, 999_999], agent)
        with pytest.raises(WrongMessageRole):
            add_entry_for_gap(served_settings, store, encoder, gap_entry(BIKES, "No."), [bot_message], agent)
        assert faq.version() == before

        added = add_entry_for_gap(served_settings, store, encoder, gap_entry(BIKES, "No, only parts.", "shop"),
                                  [first, second, first], agent)
        assert added.covered == 2 and added.faq_version == faq.version() != before
        assert {m.message_id for m in gaps.unanswered_messages(store)}.isdisjoint({first, second})
        assert faq.load().entry(added.entry.id) == added.entry
        assert added.to_dict() == {"entry": {"id": question_id(BIKES), "question": BIKES,
                                             "answer": "No, only parts.", "category": "shop"},
                                   "faq_version": added.faq_version, "covered": 2}

        with pytest.raises(FaqEntryExists):
            add_entry_for_gap(served_settings, store, encoder, gap_entry(f"{BIKES.lower()} ", "Yes."), [], agent)
        assert faq.version() == added.faq_version


def test_add_faq_from_gap_serves_the_entry_at_once(served_settings: Settings) -> None:
    async def scenario() -> None:
        runtime = Runtime(served_settings)
        with pytest.raises(RuntimeError, match="not loaded"):
            await add_faq_from_gap(runtime, BIKES, "No, only parts.")
        await runtime.start()
        assert runtime.engine is not None and runtime.store is not None, runtime.error
        try:
            asked, _ = unanswered(runtime.store, BIKES)
            with pytest.raises(ValueError, match="need some text"):
                await add_faq_from_gap(runtime, BIKES, "  ", message_ids=[asked])
            added = await add_faq_from_gap(runtime, BIKES, "No, only parts.", "shop", [asked], agent_id=None)
            assert added.covered == 1
            retriever = runtime.engine.models.retriever
            assert retriever.version == added.faq_version  # served now, not at the next reload check
            assert retriever.retrieve("do you sell bikes", k=1)[0].entry.id == added.entry.id
        finally:
            await runtime.stop()

    asyncio.run(scenario())
