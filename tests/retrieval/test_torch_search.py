"""The GPU path's pieces that run anywhere: torch's exact search (on the CPU here) and where searches go."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from retrieval.index import Backend, choose_backend
from retrieval.index_choice import IndexKind
from retrieval.torch_search import TorchExactSearch


def unit(rows: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((rows, 16)).astype(np.float32)
    faiss.normalize_L2(x)
    return x


@pytest.mark.parametrize("max_scores", [2**28, 500])  # one block, and queries in chunks of 1
def test_torch_exact_search_answers_like_faiss_exact_search(max_scores: int) -> None:
    vectors, queries = unit(300, 0), unit(20, 1)
    flat = faiss.IndexFlatIP(16)
    flat.add(vectors)
    want_scores, want_ids = flat.search(queries, 7)
    scores, ids = TorchExactSearch(vectors, "cpu", max_scores=max_scores).search(queries, 7)
    assert ids.dtype == np.int64 and ids.tolist() == want_ids.tolist()
    assert scores == pytest.approx(want_scores, abs=1e-5)


def test_torch_exact_search_clips_k_and_takes_no_queries() -> None:
    search = TorchExactSearch(unit(5, 2), "cpu")
    assert search.ntotal == 5 and search.d == 16
    assert search.search(unit(2, 3), 50)[1].shape == (2, 5)
    assert search.search(np.empty((0, 16), dtype=np.float32), 3)[1].shape == (0, 3)


def never() -> bool:
    pytest.fail("asked whether torch sees a GPU when it did not matter")


def yes() -> bool:
    return True


def no() -> bool:
    return False


def test_where_searches_run() -> None:
    for kind in IndexKind:
        assert choose_backend(False, kind, faiss_gpu=True, torch_cuda=never) is Backend.CPU
        assert choose_backend(None, kind, faiss_gpu=True, torch_cuda=never) is Backend.FAISS_GPU
        assert choose_backend(None, kind, faiss_gpu=False, torch_cuda=no) is Backend.CPU
    # a small exact FAQ stays on the CPU unless a GPU is asked for; an approximate one moves to exact GPU search
    assert choose_backend(None, IndexKind.EXACT, faiss_gpu=False, torch_cuda=never) is Backend.CPU
    assert choose_backend(True, IndexKind.EXACT, faiss_gpu=False, torch_cuda=yes) is Backend.TORCH_CUDA
    assert choose_backend(None, IndexKind.HNSW, faiss_gpu=False, torch_cuda=yes) is Backend.TORCH_CUDA
    assert choose_backend(None, IndexKind.IVF, faiss_gpu=False, torch_cuda=yes) is Backend.TORCH_CUDA
