from __future__ import annotations

from pathlib import Path

import pytest

from core.sentence_encoder import SentenceEncoder
from retrieval.evaluate import (
    QueryFormatError,
    RetrievalQuery,
    UnknownGoldIds,
    evaluate_retrieval,
    load_queries,
    score_rankings,
)
from retrieval.faq import FaqEntry
from retrieval.store import FaqRetriever


def q(text: str, *gold: str) -> RetrievalQuery:
    return RetrievalQuery(text, frozenset(gold))


def test_scores_of_hand_made_rankings() -> None:
    rankings = [
        ["a", "b"],                                  # rank 1
        ["x", "b", "a"],                             # rank 2 (first gold counts)
        ["x", "y", "z", "w", "v", "a"],              # rank 6: outside recall@5
        ["x"] * 10 + ["a"],                          # rank 11: outside MRR@10
    ]
    queries = [q("1", "a"), q("2", "a", "b"), q("3", "a"), q("4", "a")]
    assert score_rankings(rankings, queries) == {
        "top1": 0.25, "mrr@10": round((1 + 1 / 2 + 1 / 6) / 4, 4), "recall@5": 0.5, "n": 4,
    }


def test_scores_need_one_ranking_per_query() -> None:
    with pytest.raises(ValueError, match="1 rankings for 2 queries"):
        score_rankings([["a"]], [q("1", "a"), q("2", "a")])
    with pytest.raises(ValueError, match="no queries"):
        score_rankings([], [])


def test_evaluate_a_real_retriever_on_a_tiny_set(encoder: SentenceEncoder) -> None:
    entries = [
        FaqEntry("ship", "Do you ship to Norway?", "Yes, in 3-5 days."),
        FaqEntry("pay", "Which payment methods do you accept?", "Cards and PayPal."),
    ]
    retriever = FaqRetriever.from_entries(entries, encoder, use_gpu=False)
    queries = [
        q("can I pay with paypal", "pay"),
        q("delivery to norway?", "ship"),
        q("can I pay with paypal", "ship"),  # deliberately wrong gold: found at rank 2 of 2
    ]
    assert evaluate_retrieval(retriever, queries) == {"top1": 0.6667, "mrr@10": 0.8333, "recall@5": 1.0, "n": 3}


def test_gold_ids_missing_from_the_faq_are_refused(encoder: SentenceEncoder) -> None:
    retriever = FaqRetriever.from_entries([FaqEntry("a", "Q?", "A.")], encoder, use_gpu=False)
    with pytest.raises(UnknownGoldIds, match=r"1 of 2 queries name no FAQ id"):
        evaluate_retrieval(retriever, [q("Q?", "a"), q("R?", "t001_a0")])


def test_load_queries_ignores_extra_fields_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"query_id": "q1", "query": " Ship? ", "gold_faq_ids": ["a", "b"]}\n\n'
                    '{"query": "Pay?", "gold_faq_ids": ["c"], "rephr_group": 0}\n')
    assert load_queries(path) == [q("Ship?", "a", "b"), q("Pay?", "c")]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"gold_faq_ids": ["a"]}', "missing 'query'"),
        ('{"query": "Q?", "gold_faq_ids": []}', "'gold_faq_ids' must be a non-empty list of ids"),
        ('{"query": "Q?", "gold_faq_ids": "a"}', "'gold_faq_ids' must be a non-empty list of ids"),
        ("not json", "invalid JSON (Expecting value)"),
    ],
)
def test_load_queries_errors_name_the_line(tmp_path: Path, line: str, reason: str) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"query": "Fine?", "gold_faq_ids": ["a"]}\n' + line + "\n")
    with pytest.raises(QueryFormatError) as info:
        load_queries(path)
    assert str(info.value) == f"q.jsonl line 2: {reason}"


def test_load_queries_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.jsonl"):
        load_queries(tmp_path / "nope.jsonl")
