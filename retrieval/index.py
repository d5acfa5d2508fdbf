"""Nearest-neighbour search over FAQ embeddings: the FaqIndex interface and its FAISS implementation."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np

from retrieval.faq import FaqEntry
from retrieval.index_choice import IndexKind, IndexPolicy, index_kind

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


class Backend(StrEnum):
    """Where searches run."""

    CPU = "cpu"  # the faiss index as built: exact, HNSW or IVF
    FAISS_GPU = "faiss-gpu"  # exact search in a faiss GPU index (a faiss build with GPU support)
    TORCH_CUDA = "torch-cuda"  # exact search in torch on a CUDA GPU (faiss without GPU support)


def gpu_available() -> bool:
    """Whether this faiss build has GPU support and sees a GPU."""
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def torch_cuda_available() -> bool:
    """Whether torch sees a CUDA GPU (imports torch: asked only when a GPU would be used)."""
    try:
        from retrieval.torch_search import cuda_available
    except ImportError:
        return False
    return cuda_available()


def choose_backend(use_gpu: bool | None, kind: IndexKind, faiss_gpu: bool, torch_cuda: Callable[[], bool]) -> Backend:
    """Where to search an index of ``kind``: ``use_gpu`` False never uses a GPU, True uses one if any, None decides.

    A GPU searches exactly at every size (a scan of a million 384-d vectors reads 1.5 GB, a fraction of a
    millisecond at a GPU's memory bandwidth), so an index the CPU would search approximately is exact there. A
    faiss GPU build serves every index, as before; torch serves an exact CPU index only when asked
    (``use_gpu=True``), since below the exact threshold the CPU answers in about a millisecond, no transfer.
    """
    if use_gpu is False:
        return Backend.CPU
    if faiss_gpu:
        return Backend.FAISS_GPU
    if (use_gpu is True or kind is not IndexKind.EXACT) and torch_cuda():
        return Backend.TORCH_CUDA
    return Backend.CPU


def _unit_rows(vectors: np.ndarray, dim: int | None = None) -> np.ndarray:
    """A float32, C-contiguous, L2-normalised copy of a 2-D array (checked against ``dim``)."""
    array = np.array(vectors, dtype=np.float32, order="C", copy=True)
    if array.ndim != 2 or (dim is not None and array.shape[1] != dim):
        raise ValueError(f"expected vectors of shape (n, {dim or 'dim'}), got {np.shape(vectors)}")
    faiss.normalize_L2(array)
    return array


class FaissFaqIndex:
    """Inner-product search (cosine on unit vectors) with faiss: exact for a small FAQ, HNSW or IVF for a large one.

    ``IndexPolicy`` chooses the index by the number of vectors (recall@10 against exact search >= 0.99; see
    ``retrieval/index_choice.py``), for the whole FAQ and for each category. On a GPU, searches are exact.
    """

    def __init__(self, entries: Sequence[FaqEntry], cpu_index: faiss.Index, use_gpu: bool | None = None,
                 policy: IndexPolicy | None = None):
        if cpu_index.ntotal != len(entries):
            raise IndexMismatch(f"index holds {cpu_index.ntotal} vectors for {len(entries)} FAQ entries")
        kind = index_kind(cpu_index)
        if kind is None:
            raise IndexMismatch(f"{type(cpu_index).__name__} is not an inner-product index of a known kind")
        self.entries = list(entries)
        self.dim: int = cpu_index.d
        self.policy = policy or IndexPolicy()
        self.policy.tune(cpu_index)  # a saved index gets today's search breadth for its size
        self.kind = kind
        self._faiss_gpu = use_gpu is not False and gpu_available()
        self._gpu_resources: Any = faiss.StandardGpuResources() if self._faiss_gpu else None
        self.backend = self._backend(use_gpu, kind)
        self.on_gpu = self.backend is not Backend.CPU
        self._cpu_index = cpu_index
        rows_of: dict[str, list[int]] = {}
        for i, entry in enumerate(self.entries):
            if entry.category is not None:
                rows_of.setdefault(entry.category, []).append(i)
        # Every vector, when the category indexes or a GPU copy need them (a copy, dropped once they are built).
        vectors = None
        if cpu_index.ntotal and (rows_of or (self.on_gpu and kind is not IndexKind.EXACT)):
            vectors = cpu_index.reconstruct_n(0, cpu_index.ntotal)
        self._index = self._place(cpu_index, self.backend, vectors)
        # One index per category, chosen by its size, so a restricted search ranks every entry of that category.
        self._by_category: dict[str, tuple[Any, np.ndarray]] = {}
        self.category_kinds: dict[str, IndexKind] = {}  # what each category's CPU index is
        for category in sorted(rows_of):
            assert vectors is not None
            rows = np.array(rows_of[category], dtype=np.int64)
            sub_vectors = np.ascontiguousarray(vectors[rows])
            sub_kind = self.policy.kind(len(rows))
            backend = self._backend(use_gpu, sub_kind)
            if backend is not Backend.CPU:
                sub_kind = IndexKind.EXACT  # a GPU searches exactly: no CPU graph or cells it would not use
            sub = self.policy.build(sub_vectors, sub_kind)
            self.category_kinds[category] = sub_kind
            self._by_category[category] = (self._place(sub, backend, sub_vectors), rows)
        self._lock = threading.Lock()  # GPU resources are not safe to share between concurrent searches

    @classmethod
    def build(cls, entries: Sequence[FaqEntry], embeddings: np.ndarray, use_gpu: bool | None = None,
              policy: IndexPolicy | None = None) -> FaissFaqIndex:
        """Index ``embeddings[i]`` as the vector of ``entries[i]``, in the index ``policy`` picks for their number."""
        vectors = _unit_rows(embeddings)
        if len(vectors) != len(entries):
            raise IndexMismatch(f"{len(vectors)} embeddings for {len(entries)} FAQ entries")
        policy = policy or IndexPolicy()
        return cls(entries, policy.build(vectors), use_gpu, policy)

    def save(self, directory: Path) -> None:
        """Write the index (always the CPU index: exact, HNSW or IVF) to ``directory/index.faiss``."""
        Path(directory).mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._cpu_index, str(Path(directory) / INDEX_FILE))

    @classmethod
    def load(cls, directory: Path, entries: Sequence[FaqEntry], use_gpu: bool | None = None,
             policy: IndexPolicy | None = None) -> FaissFaqIndex:
        """Read ``directory/index.faiss``; IndexMismatch if it does not hold one vector per entry.

        The saved index is used as it is (the kind chosen when it was built); only its search breadth is tuned.
        """
        path = Path(directory) / INDEX_FILE
        if not path.is_file():
            raise FileNotFoundError(f"FAQ index not found: {path}")
        cpu_index = faiss.read_index(str(path))
        if index_kind(cpu_index) is None:
            raise IndexMismatch(f"{path} is not an exact, HNSW or IVF inner-product index")
        return cls(entries, cpu_index, use_gpu, policy)

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

    def _backend(self, use_gpu: bool | None, kind: IndexKind) -> Backend:
        return choose_backend(use_gpu, kind, self._faiss_gpu, torch_cuda_available)

    def _place(self, cpu_index: faiss.Index, backend: Backend, vectors: np.ndarray | None) -> Any:
        """The index searches run on: the CPU one as built, or an exact one over its vectors on the GPU."""
        if backend is Backend.CPU:
            return cpu_index
        if index_kind(cpu_index) is not IndexKind.EXACT or backend is Backend.TORCH_CUDA:
            if vectors is None:
                vectors = cpu_index.reconstruct_n(0, cpu_index.ntotal)
            if backend is Backend.TORCH_CUDA:
                from retrieval.torch_search import TorchExactSearch

                return TorchExactSearch(vectors, "cuda")
            cpu_index = faiss.IndexFlatIP(cpu_index.d)
            cpu_index.add(vectors)
        return faiss.index_cpu_to_gpu(self._gpu_resources, 0, cpu_index)

    def _run(self, index: Any, queries: np.ndarray, k: int, rows: np.ndarray | None) -> list[list[Hit]]:
        k = min(k, index.ntotal, GPU_MAX_K if self._faiss_gpu else index.ntotal)
        if k <= 0 or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        with self._lock:
            scores, ids = index.search(queries, k)
        hits = []
        for score_row, id_row in zip(scores, ids, strict=True):
            found = [(float(s), int(i)) for s, i in zip(score_row, id_row, strict=True) if i >= 0]
            hits.append([Hit(self.entries[i if rows is None else int(rows[i])], s) for s, i in found])
        return hits
