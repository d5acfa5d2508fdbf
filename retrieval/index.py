"""Nearest-neighbour search over FAQ embeddings: the FaqIndex interface and its FAISS implementation."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np

from retrieval.faq import FaqEntry

INDEX_FILE = "index.faiss"
GPU_MAX_K = 2048  # faiss GPU indexes refuse larger k


@dataclass(frozen=True)
class Hit:
    """An FAQ entry and its cosine similarity to the query."""

    entry: FaqEntry
    score: float


class FaqIndex(Protocol):
    """Finds the FAQ entries closest to unit-length query vectors."""

    def search(self, query: np.ndarray, k: int, category: str | None = None) -> list[Hit]: ...

    def search_many(self, queries: np.ndarray, k: int) -> list[list[Hit]]: ...


class IndexMismatch(ValueError):
    """A saved index does not fit the FAQ entries it is loaded with."""


def gpu_available() -> bool:
    """Whether this faiss build has GPU support and sees a GPU."""
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def _unit_rows(vectors: np.ndarray, dim: int | None = None) -> np.ndarray:
    """A float32, C-contiguous, L2-normalised copy of a 2-D array (checked against ``dim``)."""
    array = np.array(vectors, dtype=np.float32, order="C", copy=True)
    if array.ndim != 2 or (dim is not None and array.shape[1] != dim):
        raise ValueError(f"expected vectors of shape (n, {dim or 'dim'}), got {np.shape(vectors)}")
    faiss.normalize_L2(array)
    return array


class FaissFaqIndex:
    """Exact inner-product search (cosine on unit vectors) with faiss, on a GPU when one is usable."""

    def __init__(self, entries: Sequence[FaqEntry], cpu_index: faiss.IndexFlatIP, use_gpu: bool | None = None):
        if cpu_index.ntotal != len(entries):
            raise IndexMismatch(f"index holds {cpu_index.ntotal} vectors for {len(entries)} FAQ entries")
        self.entries = list(entries)
        self.dim: int = cpu_index.d
        self.on_gpu = bool(use_gpu is not False and gpu_available())
        self._gpu_resources: Any = faiss.StandardGpuResources() if self.on_gpu else None
        self._cpu_index = cpu_index
        self._index = self._place(cpu_index)
        # One small index per category, so a restricted search ranks every entry of that category.
        vectors = cpu_index.reconstruct_n(0, cpu_index.ntotal) if cpu_index.ntotal else None
        self._by_category: dict[str, tuple[Any, np.ndarray]] = {}
        for category in sorted({e.category for e in self.entries if e.category is not None}):
            rows = np.array([i for i, e in enumerate(self.entries) if e.category == category], dtype=np.int64)
            sub = faiss.IndexFlatIP(self.dim)
            assert vectors is not None
            sub.add(vectors[rows])
            self._by_category[category] = (self._place(sub), rows)
        self._lock = threading.Lock()  # GPU resources are not safe to share between concurrent searches

    @classmethod
    def build(
        cls, entries: Sequence[FaqEntry], embeddings: np.ndarray, use_gpu: bool | None = None
    ) -> FaissFaqIndex:
        """Index ``embeddings[i]`` as the vector of ``entries[i]``."""
        vectors = _unit_rows(embeddings)
        if len(vectors) != len(entries):
            raise IndexMismatch(f"{len(vectors)} embeddings for {len(entries)} FAQ entries")
        cpu_index = faiss.IndexFlatIP(vectors.shape[1])
        cpu_index.add(vectors)
        return cls(entries, cpu_index, use_gpu)

    def save(self, directory: Path) -> None:
        """Write the index (always a CPU index) to ``directory/index.faiss``."""
        Path(directory).mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._cpu_index, str(Path(directory) / INDEX_FILE))

    @classmethod
    def load(cls, directory: Path, entries: Sequence[FaqEntry], use_gpu: bool | None = None) -> FaissFaqIndex:
        """Read ``directory/index.faiss``; IndexMismatch if it does not hold one vector per entry."""
        path = Path(directory) / INDEX_FILE
        if not path.is_file():
            raise FileNotFoundError(f"FAQ index not found: {path}")
        cpu_index = faiss.read_index(str(path))
        if not isinstance(cpu_index, faiss.IndexFlatIP):
            raise IndexMismatch(f"{path} is not a flat inner-product index")
        return cls(entries, cpu_index, use_gpu)

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, query: np.ndarray, k: int, category: str | None = None) -> list[Hit]:
        """The ``k`` entries closest to ``query`` (shape ``(dim,)``), restricted to ``category`` if given."""
        vector = np.asarray(query)
        if vector.shape != (self.dim,):
            raise ValueError(f"expected a query of shape ({self.dim},), got {vector.shape}")
        if category is None:
            return self.search_many(vector[None, :], k)[0]
        if category not in self._by_category:
            return []
        index, rows = self._by_category[category]
        return self._run(index, _unit_rows(vector[None, :], self.dim), k, rows)[0]

    def search_many(self, queries: np.ndarray, k: int) -> list[list[Hit]]:
        """The ``k`` closest entries for each row of ``queries`` (shape ``(m, dim)``)."""
        return self._run(self._index, _unit_rows(queries, self.dim), k, None)

    def _place(self, cpu_index: faiss.IndexFlatIP) -> Any:
        if not self.on_gpu:
            return cpu_index
        return faiss.index_cpu_to_gpu(self._gpu_resources, 0, cpu_index)

    def _run(self, index: Any, queries: np.ndarray, k: int, rows: np.ndarray | None) -> list[list[Hit]]:
        k = min(k, index.ntotal, GPU_MAX_K if self.on_gpu else index.ntotal)
        if k <= 0 or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        with self._lock:
            scores, ids = index.search(queries, k)
        hits = []
        for score_row, id_row in zip(scores, ids, strict=True):
            found = [(float(s), int(i)) for s, i in zip(score_row, id_row, strict=True) if i >= 0]
            hits.append([Hit(self.entries[i if rows is None else int(rows[i])], s) for s, i in found])
        return hits
