"""Retrieval quality: top-1 accuracy, MRR@10 and recall@5 of a retriever on labelled queries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.file_errors import FileFormatError
from retrieval.store import FaqRetriever

DEPTH = 10  # ranks looked at: MRR@10


@dataclass(frozen=True)
class RetrievalQuery:
    """A user's wording and the FAQ entries that answer it."""

    query: str
    gold_faq_ids: frozenset[str]


class QueryFormatError(FileFormatError):
    """A line of a queries file is invalid; ``str(e)`` reads ``queries.jsonl line 3: missing 'query'``."""


class UnknownGoldIds(ValueError):
    """Some queries name no FAQ entry the retriever knows, so they could never be answered."""


def load_queries(path: Path) -> list[RetrievalQuery]:
    """Read a JSONL file of ``{"query": ..., "gold_faq_ids": [...]}`` objects (other fields ignored)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"queries file not found: {path}")
    queries = []
    for number, raw in enumerate(path.read_text(encoding="utf-8-sig").split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise QueryFormatError(path, number, f"invalid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise QueryFormatError(path, number, "expected a JSON object")
        query, gold = row.get("query"), row.get("gold_faq_ids")
        if not isinstance(query, str) or not query.strip():
            raise QueryFormatError(path, number, "missing 'query'")
        if not isinstance(gold, list) or not gold or not all(isinstance(g, str | int) for g in gold):
            raise QueryFormatError(path, number, "'gold_faq_ids' must be a non-empty list of ids")
        queries.append(RetrievalQuery(query.strip(), frozenset(str(g) for g in gold)))
    return queries


def score_rankings(rankings: Sequence[Sequence[str]], queries: Sequence[RetrievalQuery]) -> dict[str, float | int]:
    """Metrics for ranked FAQ ids, one ranking per query; recall@5 counts queries with a gold id in the top 5."""
    if len(rankings) != len(queries):
        raise ValueError(f"{len(rankings)} rankings for {len(queries)} queries")
    if not queries:
        raise ValueError("no queries to evaluate")
    top1 = reciprocal = recall5 = 0.0
    for ranking, q in zip(rankings, queries, strict=True):
        rank = next((r for r, faq_id in enumerate(ranking[:DEPTH], start=1) if faq_id in q.gold_faq_ids), None)
        if rank is not None:
            top1 += rank == 1
            reciprocal += 1.0 / rank
            recall5 += rank <= 5
    n = len(queries)
    return {"top1": round(top1 / n, 4), "mrr@10": round(reciprocal / n, 4), "recall@5": round(recall5 / n, 4), "n": n}


def evaluate_retrieval(retriever: FaqRetriever, queries: Sequence[RetrievalQuery]) -> dict[str, float | int]:
    """Run every query through ``retriever`` and score the top 10 against the gold ids."""
    unknown = [q for q in queries if not any(retriever.entry(g) for g in q.gold_faq_ids)]
    if unknown:
        raise UnknownGoldIds(
            f"{len(unknown)} of {len(queries)} queries name no FAQ id in this FAQ "
            f"(first: {unknown[0].query!r} -> {sorted(unknown[0].gold_faq_ids)}); wrong FAQ file?"
        )
    hits = retriever.retrieve_many([q.query for q in queries], k=DEPTH)
    return score_rankings([[h.entry.id for h in row] for row in hits], queries)
