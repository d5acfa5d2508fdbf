"""The automatic index choice: exact for a small FAQ, HNSW or IVF above a threshold, with categories and saving.

The thresholds are forced low through ``IndexPolicy`` so that a few thousand small vectors get the approximate
indexes a large FAQ would; recall is scored against exact search with numpy.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from retrieval.faq import FaqEntry
from retrieval.index import Backend, FaissFaqIndex, IndexMismatch
from retrieval.index_choice import IndexKind, IndexPolicy

DIM, N, CLUSTERS = 32, 3000, 60
HNSW_POLICY = IndexPolicy(exact_max=500)
IVF_POLICY = IndexPolicy(exact_max=500, ivf_min=600)
POLICIES = {IndexKind.HNSW: HNSW_POLICY, IndexKind.IVF: IVF_POLICY}


def clustered(n: int, queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors around CLUSTERS centres, queries around the same centres, and each vector's cluster."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CLUSTERS, DIM))
    labels = rng.integers(0, CLUSTERS, n + queries)
    points = centres[labels] + 0.6 * rng.standard_normal((n + queries, DIM))
    points = (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    return points[:n], points[n:], labels[:n]


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k]


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t.tolist())) / len(t) for f, t in zip(found, truth, strict=True)]))


def entries_for(labels: np.ndarray, categorised: bool = False) -> list[FaqEntry]:
    # topical categories, as real ones are: every cluster belongs to one of three (every 10th entry: none)
    return [FaqEntry(f"e{i}", f"Q{i}?", f"A{i}.", f"c{label % 3}" if categorised and i % 10 else None)
            for i, label in enumerate(labels)]


def ids(index: FaissFaqIndex, queries: np.ndarray, k: int = 10) -> list[list[int]]:
    return [[int(h.entry.id[1:]) for h in row] for row in index.search_many(queries, k)]


def test_the_policy_keeps_small_faqs_exact_and_picks_an_approximate_index_above() -> None:
    policy = IndexPolicy()
    assert policy.kind(0) is policy.kind(78) is policy.kind(policy.exact_max) is IndexKind.EXACT
    assert policy.kind(policy.exact_max + 1) is policy.kind(1_000_000) is IndexKind.HNSW
    assert IVF_POLICY.kind(599) is IndexKind.HNSW and IVF_POLICY.kind(600) is IndexKind.IVF
    breadths = [policy.ef_search(n) for n in (20_001, 100_000, 1_000_000, 10_000_000)]
    assert breadths == sorted(breadths) and breadths[0] >= 32  # never below what 0.99 needed at 10k
    assert all(1 <= policy.nprobe(policy.nlist(n)) <= policy.nlist(n) for n in (1000, 10_000, 1_000_000))


def test_a_small_faq_stays_exact() -> None:
    vectors, queries, labels = clustered(400, 50)
    index = FaissFaqIndex.build(entries_for(labels), vectors, use_gpu=False)
    assert index.kind is IndexKind.EXACT and index.backend is Backend.CPU
    assert ids(index, queries) == exact_top(vectors, queries, 10).tolist()
    scores = [h.score for h in index.search(queries[0], k=5)]
    assert scores == pytest.approx(np.sort(vectors @ queries[0])[::-1][:5], abs=1e-5)


@pytest.mark.parametrize("kind", [IndexKind.HNSW, IndexKind.IVF])
def test_a_large_faq_gets_an_approximate_index_with_recall_at_10_of_099(kind: IndexKind) -> None:
    vectors, queries, labels = clustered(N, 300)
    index = FaissFaqIndex.build(entries_for(labels), vectors, use_gpu=False, policy=POLICIES[kind])
    assert index.kind is kind and len(index) == N
    assert recall(ids(index, queries), exact_top(vectors, queries, 10)) >= 0.99
    best = index.search(queries[0], k=1)[0]
    assert best.score == pytest.approx(float(np.max(vectors @ queries[0])), abs=1e-5)  # scores stay cosines


@pytest.mark.parametrize("kind", [IndexKind.HNSW, IndexKind.IVF])
def test_category_search_on_an_approximate_index_ranks_only_that_category(kind: IndexKind) -> None:
    vectors, queries, labels = clustered(N, 200, seed=1)
    entries = entries_for(labels, categorised=True)
    index = FaissFaqIndex.build(entries, vectors, use_gpu=False, policy=POLICIES[kind])
    assert index.kind is kind and set(index.category_kinds.values()) == {kind}  # ~900 entries each
    for category in ("c0", "c1", "c2"):
        rows = np.array([i for i, e in enumerate(entries) if e.category == category])
        found = [[int(h.entry.id[1:]) for h in index.search(q, k=10, category=category)] for q in queries]
        assert all(entries[i].category == category for row in found for i in row)
        truth = rows[exact_top(vectors[rows], queries, 10)]
        # most queries come from another category's clusters: its best entries lie far outside the global top 10
        assert recall(found, truth) >= 0.99
        assert np.mean([row[0] == t[0] for row, t in zip(found, truth, strict=True)]) >= 0.99


def test_a_small_category_of_a_large_faq_is_searched_exactly() -> None:
    vectors, queries, labels = clustered(N, 50, seed=2)
    entries = [FaqEntry(e.id, e.question, e.answer, "rare" if i % 20 == 0 else None)
               for i, e in enumerate(entries_for(labels))]
    index = FaissFaqIndex.build(entries, vectors, use_gpu=False, policy=HNSW_POLICY)
    assert index.kind is IndexKind.HNSW and index.category_kinds == {"rare": IndexKind.EXACT}
    rows = np.arange(0, N, 20)
    found = [[int(h.entry.id[1:]) for h in index.search(q, k=10, category="rare")] for q in queries]
    assert found == rows[exact_top(vectors[rows], queries, 10)].tolist()


@pytest.mark.parametrize("kind", [IndexKind.HNSW, IndexKind.IVF])
def test_save_then_load_keeps_the_index_and_its_answers(kind: IndexKind, tmp_path: Path) -> None:
    vectors, queries, labels = clustered(N, 100, seed=3)
    entries = entries_for(labels, categorised=True)
    index = FaissFaqIndex.build(entries, vectors, use_gpu=False, policy=POLICIES[kind])
    index.save(tmp_path)
    loaded = FaissFaqIndex.load(tmp_path, entries, use_gpu=False, policy=POLICIES[kind])
    assert loaded.kind is kind and loaded.category_kinds == index.category_kinds
    assert loaded.search_many(queries, 10) == index.search_many(queries, 10)
    # category indexes are rebuilt from the saved vectors (an HNSW graph is built in parallel, so not bit for
    # bit the same one): they still find the category's nearest entries
    rows = np.array([i for i, e in enumerate(entries) if e.category == "c1"])
    found = [[int(h.entry.id[1:]) for h in loaded.search(q, k=10, category="c1")] for q in queries]
    assert recall(found, rows[exact_top(vectors[rows], queries, 10)]) >= 0.99
    # under another policy the saved index is used as it is, not rebuilt to that policy's choice
    assert FaissFaqIndex.load(tmp_path, entries, use_gpu=False).kind is kind


def test_ivf_training_is_seeded() -> None:
    vectors, queries, labels = clustered(N, 100, seed=4)
    entries = entries_for(labels)
    first, second = (FaissFaqIndex.build(entries, vectors, use_gpu=False, policy=IVF_POLICY) for _ in range(2))
    assert first.search_many(queries, 10) == second.search_many(queries, 10)


def test_load_refuses_an_index_of_another_kind(tmp_path: Path) -> None:
    vectors, _, labels = clustered(200, 0)
    l2 = faiss.IndexFlatL2(DIM)
    l2.add(vectors)
    faiss.write_index(l2, str(tmp_path / "index.faiss"))
    with pytest.raises(IndexMismatch, match="not an exact, HNSW or IVF inner-product index"):
        FaissFaqIndex.load(tmp_path, entries_for(labels))
