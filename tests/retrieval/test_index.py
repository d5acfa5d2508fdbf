from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.faq import FaqEntry
from retrieval.index import Backend, FaissFaqIndex, IndexMismatch
from retrieval.index_choice import IndexKind

# Six entries on the unit circle of a 4-d space; "b" entries sit far from the "a" ones.
ANGLES = [0.0, 0.1, 0.2, 0.3, 2.5, 3.0]
CATEGORIES = ["a", "a", "a", None, "b", "b"]
ENTRIES = [FaqEntry(f"e{i}", f"Q{i}?", f"A{i}.", c) for i, c in enumerate(CATEGORIES)]


def vectors() -> np.ndarray:
    return np.array([[np.cos(t), np.sin(t), 0.0, 0.0] for t in ANGLES], dtype=np.float32)


def query(angle: float) -> np.ndarray:
    return np.array([np.cos(angle), np.sin(angle), 0.0, 0.0], dtype=np.float32)


@pytest.fixture
def index() -> FaissFaqIndex:
    return FaissFaqIndex.build(ENTRIES, vectors(), use_gpu=False)


def test_nearest_first_with_cosine_scores(index: FaissFaqIndex) -> None:
    hits = index.search(query(0.0), k=3)
    assert [h.entry.id for h in hits] == ["e0", "e1", "e2"]
    assert [h.score for h in hits] == pytest.approx([1.0, np.cos(0.1), np.cos(0.2)], abs=1e-6)
    assert index.on_gpu is False and index.backend is Backend.CPU
    assert index.kind is IndexKind.EXACT and index.category_kinds == {"a": IndexKind.EXACT, "b": IndexKind.EXACT}


def test_vectors_are_normalised_on_the_way_in() -> None:
    scaled = FaissFaqIndex.build(ENTRIES, vectors() * 5, use_gpu=False)
    assert scaled.search(query(0.0) * 3, k=1)[0].score == pytest.approx(1.0, abs=1e-6)


def test_category_gives_its_best_entries_even_outside_the_global_top_k(index: FaissFaqIndex) -> None:
    assert [h.entry.id for h in index.search(query(0.0), k=2)] == ["e0", "e1"]
    hits = index.search(query(0.0), k=2, category="b")
    assert [h.entry.id for h in hits] == ["e4", "e5"]
    assert hits[0].score == pytest.approx(np.cos(2.5), abs=1e-6)
    assert [h.entry.id for h in index.search(query(0.25), k=5, category="a")] == ["e2", "e1", "e0"]


def test_unknown_category_finds_nothing(index: FaissFaqIndex) -> None:
    assert index.search(query(0.0), k=3, category="nope") == []


def test_k_larger_than_the_index_and_k_zero(index: FaissFaqIndex) -> None:
    assert len(index.search(query(0.0), k=50)) == len(ENTRIES)
    assert index.search(query(0.0), k=0) == []


def test_search_many_answers_each_row(index: FaissFaqIndex) -> None:
    results = index.search_many(np.stack([query(0.0), query(3.0)]), k=1)
    assert [[h.entry.id for h in row] for row in results] == [["e0"], ["e5"]]


def test_wrong_query_shape_is_refused(index: FaissFaqIndex) -> None:
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        index.search(np.zeros(3, dtype=np.float32), k=1)


def test_save_then_load_gives_the_same_answers(index: FaissFaqIndex, tmp_path: Path) -> None:
    index.save(tmp_path)
    loaded = FaissFaqIndex.load(tmp_path, ENTRIES, use_gpu=False)
    assert loaded.search(query(2.9), k=2, category="b") == index.search(query(2.9), k=2, category="b")
    assert loaded.search(query(0.15), k=6) == index.search(query(0.15), k=6)


def test_load_with_other_entries_is_a_mismatch(index: FaissFaqIndex, tmp_path: Path) -> None:
    index.save(tmp_path)
    with pytest.raises(IndexMismatch, match="6 vectors for 5 FAQ entries"):
        FaissFaqIndex.load(tmp_path, ENTRIES[:5])


def test_build_needs_one_vector_per_entry() -> None:
    with pytest.raises(IndexMismatch):
        FaissFaqIndex.build(ENTRIES[:2], vectors())


def test_load_without_a_file_says_where(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"index\.faiss"):
        FaissFaqIndex.load(tmp_path, ENTRIES)
