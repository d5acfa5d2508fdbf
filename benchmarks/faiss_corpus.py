"""Synthetic FAQ embeddings for the FAISS benchmark, and the check of them against real MiniLM embeddings.

Neither uniform random vectors nor copies of real ones will do at a million: vectors uniform on the sphere have
no neighbourhoods and make every approximate index look worse than it is on text; StackFAQ's 719 entries
replicated with noise are 719 blobs, which an IVF index with ~1,000 cells matches one to one. ``Corpus`` is a
mixture of low-rank Gaussians instead, fitted to real embeddings: to StackFAQ's shape (``shape_stats``) and,
at 10,000 vectors, to how hard BANKING77's neighbours are to find (``ann_curves``); ``calibration`` measures
both for the real data and the model.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

from retrieval.index_choice import IndexKind, IndexPolicy

DIM = 384
PER_THREAD, THREADS_PER_TOPIC = 6, 12  # StackFAQ: 719 answers in 125 threads
SPECTRUM_POWER = 0.8  # topic centres: variance along the i-th principal axis ~ i^-power
SUBSPACES, RANK = 256, 12  # the fitted model: each topic varies within one of 256 random 12-d subspaces


@dataclass(frozen=True)
class Shape:
    """How far each level sits from the one above (norms of the offsets), and where entries vary."""

    name: str
    topic: float
    thread: float
    entry: float
    noise: float  # isotropic, on every entry
    low_rank: bool  # threads and entries offset within their topic's subspace (else along every axis)
    mean_norm: float = 0.42


# Fitted: local structure low-rank, as text's is. Isotropic: every offset along all 384 axes, so neighbourhoods
# are high-dimensional and harder to search than real text's (the pessimistic check of the tuning).
FITTED = Shape("fitted", topic=0.6, thread=0.8, entry=0.7, noise=0.6, low_rank=True)
ISOTROPIC = Shape("isotropic", topic=0.6, thread=0.9, entry=0.7, noise=0.0, low_rank=False)


class Corpus:
    """Unit vectors shaped like sentence embeddings of a help centre: topics, threads in them, entries in those.

    Sentence embeddings share a common direction (their mean has norm ~0.3), spread their variance over many
    directions overall, but vary along few directions locally, and come in groups: an FAQ thread's answers and
    the questions customers ask about it sit together, threads of one topic near each other. So: topic centres
    around a mean with a power-law spectrum; within a topic, threads and entries offset inside the topic's own
    low-rank subspace (``FITTED``; ``ISOTROPIC`` offsets them along every axis); a little isotropic noise on
    every entry. Threads and topics grow with ``n`` (6 entries a thread, 12 threads a topic): a million entries
    are 166,000 threads. Queries are new points around existing threads, as a customer's wording is a new
    paraphrase of something the FAQ answers.
    """

    def __init__(self, n: int, shape: Shape = FITTED, seed: int = 0, dim: int = DIM):
        rng = np.random.default_rng([seed, n])
        basis, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
        scale = np.sqrt(np.arange(1, dim + 1, dtype=np.float64) ** -SPECTRUM_POWER)
        self.axes = ((scale / np.linalg.norm(scale))[:, None] * basis.T).astype(np.float32)  # row i: axis i
        subspaces, _ = np.linalg.qr(rng.standard_normal((SUBSPACES, dim, RANK)))
        self.subspaces = (subspaces.transpose(0, 2, 1) / np.sqrt(RANK)).astype(np.float32)  # (pool, rank, dim)
        mean = rng.standard_normal(dim)
        threads = max(1, n // PER_THREAD)
        topics = max(1, threads // THREADS_PER_TOPIC)
        centres = shape.mean_norm * mean / np.linalg.norm(mean) + shape.topic * (
            rng.standard_normal((topics, dim), dtype=np.float32) @ self.axes)
        topic_subspace, thread_topic = rng.integers(0, SUBSPACES, topics), rng.integers(0, topics, threads)
        self.shape, self.n, self.seed = shape, n, seed
        self.thread_subspace = topic_subspace[thread_topic]
        offsets = shape.thread * self._local(rng, self.thread_subspace)
        self.threads = (centres[thread_topic] + offsets).astype(np.float32)

    def _local(self, rng: np.random.Generator, subspace: np.ndarray) -> np.ndarray:
        """One standard Gaussian offset per row: inside the subspace that row names, or along every axis."""
        if not self.shape.low_rank:
            return rng.standard_normal((len(subspace), len(self.axes)), dtype=np.float32) @ self.axes
        z = rng.standard_normal((len(subspace), RANK), dtype=np.float32)
        out = np.empty((len(subspace), self.subspaces.shape[2]), dtype=np.float32)
        order = np.argsort(subspace, kind="stable")
        bounds = np.searchsorted(subspace[order], np.arange(SUBSPACES + 1))
        for s in range(SUBSPACES):
            rows = order[bounds[s]:bounds[s + 1]]
            out[rows] = z[rows] @ self.subspaces[s]
        return out

    def sample(self, m: int, stream: int) -> np.ndarray:
        """``m`` unit float32 vectors around random threads; the same ``stream`` gives the same vectors."""
        rng = np.random.default_rng([self.seed, self.n, stream])
        out = np.empty((m, self.subspaces.shape[2]), dtype=np.float32)
        for start in range(0, m, 100_000):
            size = min(100_000, m - start)
            thread = rng.integers(0, len(self.threads), size)
            out[start:start + size] = self.threads[thread] + self.shape.entry * self._local(
                rng, self.thread_subspace[thread])
            if self.shape.noise:
                noise = rng.standard_normal((size, out.shape[1]), dtype=np.float32)
                out[start:start + size] += (self.shape.noise / np.sqrt(out.shape[1])) * noise
        faiss.normalize_L2(out)
        return out


def local_dimension(vectors: np.ndarray, k: int = 10) -> float:
    """Median maximum-likelihood local intrinsic dimension over each point's ``k`` nearest (Levina & Bickel)."""
    distance = np.sqrt(np.maximum(2 - 2 * (vectors @ vectors.T), 1e-12))
    np.fill_diagonal(distance, np.inf)
    nearest = np.sort(distance, axis=1)[:, :k]
    return float(np.median((k - 1) / np.log(nearest[:, -1:] / nearest[:, :-1]).sum(axis=1)))


def shape_stats(docs: np.ndarray, queries: np.ndarray) -> dict[str, float]:
    """Mean norm, pair cosines, queries' 1st/10th neighbour, spectrum, local dimension."""
    both = np.vstack([docs, queries])
    pairs = (both @ both.T)[np.triu_indices(len(both), 1)]
    nearest = -np.sort(-(queries @ docs.T), axis=1)
    variance = np.linalg.svd(both - both.mean(0), compute_uv=False) ** 2
    share = np.cumsum(variance) / variance.sum()
    return {"mean norm": float(np.linalg.norm(both.mean(0))), "pair cosine mean": float(pairs.mean()),
            "pair cosine sd": float(pairs.std()), "1st neighbour cosine": float(nearest[:, 0].mean()),
            "10th neighbour cosine": float(nearest[:, 9].mean()), "variance in top 10 axes": float(share[9]),
            "variance in top 50 axes": float(share[49]), "local intrinsic dimension (k=10)": local_dimension(both)}


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """recall@k: the share of the exact top k that the index found, averaged over queries."""
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def ann_curves(vectors: np.ndarray, queries: np.ndarray, policy: IndexPolicy) -> dict[str, float]:
    """recall@10 of HNSW and IVF (the policy's build settings) at a few search breadths."""
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    truth = exact.search(queries, 10)[1]
    out = {}
    hnsw: Any = policy.build(vectors, IndexKind.HNSW)  # faiss's stubs type build()'s result as a bare Index
    ivf: Any = policy.build(vectors, IndexKind.IVF)
    for ef in (16, 32, 64):
        hnsw.hnsw.efSearch = ef
        out[f"HNSW efSearch={ef}"] = recall(hnsw.search(queries, 10)[1], truth)
    for nprobe in (4, 16):
        ivf.nprobe = nprobe
        out[f"IVF nprobe={nprobe} of {ivf.nlist}"] = recall(ivf.search(queries, 10)[1], truth)
    return out


def calibration(policy: IndexPolicy, real: bool) -> dict[str, Any]:
    """Both models beside real MiniLM embeddings: StackFAQ's shape (719 + 1,249) and BANKING77's ANN curves
    (10,003 training texts indexed, 1,000 test texts as queries). ``real`` False: the models' figures only."""
    out: dict[str, Any] = {"shape": {}, "ann": {}}
    for shape in (FITTED, ISOTROPIC):
        small, large = Corpus(719, shape), Corpus(10_003, shape)
        out["shape"][f"{shape.name} model"] = shape_stats(small.sample(719, 1), small.sample(1249, 2))
        out["ann"][f"{shape.name} model"] = ann_curves(large.sample(10_003, 1), large.sample(1000, 2), policy)
    if not real:
        return out
    try:
        from benchmarks.banking77 import data_dir as banking_dir
        from benchmarks.stackfaq import data_dir as stackfaq_dir
        from core.sentence_encoder import SentenceEncoder
        from retrieval.evaluate import load_queries
        from retrieval.faq import entry_text, load_faq

        encoder = SentenceEncoder()
        folder = stackfaq_dir()
        docs = encoder.encode([entry_text(e) for e in load_faq(folder / "faq.jsonl")])
        asked = encoder.encode([q.query for q in load_queries(folder / "queries.jsonl")])
        out["shape"]["StackFAQ"] = shape_stats(docs, asked)
        texts = {}
        for split in ("train", "test"):
            with (banking_dir() / f"{split}.csv").open(encoding="utf-8") as f:
                texts[split] = [row["text"].strip() for row in csv.DictReader(f)]
        out["ann"]["BANKING77"] = ann_curves(encoder.encode(texts["train"]), encoder.encode(texts["test"][:1000]),
                                             policy)
    except (FileNotFoundError, OSError) as exc:
        print(f"calibration against real embeddings skipped: {exc}", file=sys.stderr)
    return out
