"""Exact inner-product search with torch, for a CUDA GPU when the installed faiss has no GPU support.

The faiss wheel here is CPU-only; torch, which the encoder needs anyway, usually has CUDA where a GPU is. One
matrix product and a top-k scan every vector: exact at any size, and on a GPU faster than a CPU graph. Imported
only when a GPU path is considered, so a small FAQ on a CPU never loads torch for its index.
"""

from __future__ import annotations

import numpy as np
import torch

# Scores per call are (queries x vectors) floats: queries go in chunks that keep this matrix under 1 GiB.
MAX_SCORES = 2**28


def cuda_available() -> bool:
    return bool(torch.cuda.is_available())


class TorchExactSearch:
    """The vectors on ``device``; ``search`` answers like a faiss index (scores and ids, best first).

    Scores are float32 products; a process that enables TF32 matmuls (``torch.backends.cuda.matmul``) rounds
    them to about 1e-3, which can swap near-ties but not the nearest entries.
    """

    def __init__(self, vectors: np.ndarray, device: str | torch.device = "cuda", max_scores: int = MAX_SCORES):
        self.device = torch.device(device)
        self.max_scores = max_scores
        array = np.ascontiguousarray(vectors, dtype=np.float32)
        self.ntotal, self.d = int(array.shape[0]), int(array.shape[1])
        self._vectors = torch.from_numpy(array).to(self.device)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` largest inner products of each query row: (scores, ids), each of shape (m, k)."""
        k = min(k, self.ntotal)
        chunk = max(1, self.max_scores // max(1, self.ntotal))
        scores, ids = [], []
        with torch.inference_mode():
            for start in range(0, len(queries), chunk):
                block = torch.from_numpy(np.ascontiguousarray(queries[start:start + chunk], dtype=np.float32))
                top = torch.topk(block.to(self.device) @ self._vectors.T, k, dim=1)
                scores.append(top.values.cpu().numpy())
                ids.append(top.indices.cpu().numpy())
        if not scores:
            return np.empty((0, k), dtype=np.float32), np.empty((0, k), dtype=np.int64)
        return np.vstack(scores), np.vstack(ids).astype(np.int64)
