"""Which faiss index an FAQ of n vectors gets, and how it is tuned: exact when small, HNSW when large.

The numbers come from ``benchmarks/faiss_scale.py`` (2 CPU cores, 384-d vectors modelled on MiniLM embeddings;
figures in ``benchmarks/RESULTS.md``). Exact search stays while one query scans the FAQ in about a millisecond
(20,000 vectors); beyond, a single query costs 10-200x more exactly than in an HNSW graph searched broadly
enough for recall@10 against exact search of 0.99 or more, at 10k, 100k and 1M vectors, on the model fitted
to real embeddings and (to 100k) on a harder, isotropic one. At 1M the isotropic model reaches only 0.93 at
efSearch=512 (``--pessimistic-max 1000000``); real text lies between the two models at 10k, so a million-entry
FAQ may want a broader build (``hnsw_ef_construction``) than the default. IVF is built and tuned too, but
chosen only when asked (``ivf_min``): it trains and builds far faster and holds no graph, yet on those vectors
it needs most of its lists for 0.99. Every index holds unit vectors and ranks them by inner product (cosine).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import faiss
import numpy as np


class IndexKind(StrEnum):
    """The faiss index types an FAQ may get."""

    EXACT = "exact"  # IndexFlatIP: every vector scanned
    HNSW = "hnsw"  # IndexHNSWFlat: a navigable small-world graph over the full vectors
    IVF = "ivf"  # IndexIVFFlat: k-means cells, the nearest cells scanned


@dataclass(frozen=True)
class IndexPolicy:
    """Chooses, builds and tunes the index for a number of vectors; the defaults are the benchmarked ones."""

    exact_max: int = 20_000  # up to this many vectors: exact search (~1 ms a query on one core)
    ivf_min: int | None = None  # from this many vectors: IVF instead of HNSW (None: HNSW at every size)
    hnsw_m: int = 32  # graph degree (the links add ~17% to the vectors' memory at 384-d)
    hnsw_ef_construction: int = 80  # build breadth: 1M vectors build in minutes on 2 cores
    # efSearch by size, (up to n vectors, efSearch): the 0.99 point of the harder model with room to spare; at
    # 1M recall levels off near 0.994 (more would need a broader build). Larger FAQs: hnsw_ef_search_max.
    hnsw_ef_search: tuple[tuple[int, int], ...] = ((100_000, 256), (1_000_000, 512))
    hnsw_ef_search_max: int = 1024
    ivf_lists_per_sqrt: float = 1.0  # nlist = this × √n: more lists make k-means training the bottleneck
    ivf_probe_fraction: float = 0.25  # nprobe = this share of the lists (at least ivf_min_probe)
    ivf_min_probe: int = 16
    ivf_train_per_list: int = 64  # training sample per list (faiss wants at least 39)
    seed: int = 1234  # k-means seed, so an IVF index is the same on every build

    def kind(self, n: int) -> IndexKind:
        """The index type for ``n`` vectors."""
        if n <= self.exact_max:
            return IndexKind.EXACT
        if self.ivf_min is not None and n >= self.ivf_min:
            return IndexKind.IVF
        return IndexKind.HNSW

    def ef_search(self, n: int) -> int:
        """HNSW's search breadth for an index of ``n`` vectors."""
        for upto, ef in self.hnsw_ef_search:
            if n <= upto:
                return ef
        return self.hnsw_ef_search_max

    def nlist(self, n: int) -> int:
        """How many k-means cells an IVF index of ``n`` vectors gets."""
        return max(1, min(n, round(self.ivf_lists_per_sqrt * math.sqrt(n))))

    def nprobe(self, nlist: int) -> int:
        """How many of ``nlist`` cells an IVF search scans."""
        return min(nlist, max(self.ivf_min_probe, math.ceil(self.ivf_probe_fraction * nlist)))

    def build(self, vectors: np.ndarray, kind: IndexKind | None = None) -> faiss.Index:
        """An index of ``kind`` (default: the one for their number) over unit ``vectors`` (float32, C order)."""
        n, dim = vectors.shape
        kind = kind or self.kind(n)
        index: faiss.Index
        if kind is IndexKind.EXACT:
            index = faiss.IndexFlatIP(dim)
        elif kind is IndexKind.HNSW:
            graph = faiss.IndexHNSWFlat(dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = self.hnsw_ef_construction
            index = graph
        else:
            cells = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, self.nlist(n), faiss.METRIC_INNER_PRODUCT)
            cells.cp.seed = self.seed
            cells.cp.spherical = True  # centroids on the sphere, as the vectors are
            cells.cp.max_points_per_centroid = self.ivf_train_per_list  # faiss subsamples, seeded
            cells.train(vectors)
            index = cells
        if n:
            index.add(vectors)
        self.tune(index)
        return index

    def tune(self, index: faiss.Index) -> None:
        """Set the search breadth for the index's size (also on an index read from disk)."""
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = self.ef_search(index.ntotal)
        elif isinstance(index, faiss.IndexIVF):
            index.nprobe = self.nprobe(index.nlist)


def index_kind(index: faiss.Index) -> IndexKind | None:
    """What an index is, or None when it is not one this module builds (or not an inner-product one)."""
    if index.metric_type != faiss.METRIC_INNER_PRODUCT:
        return None
    if isinstance(index, faiss.IndexFlat):
        return IndexKind.EXACT
    if isinstance(index, faiss.IndexHNSWFlat):
        return IndexKind.HNSW
    if isinstance(index, faiss.IndexIVFFlat):
        return IndexKind.IVF
    return None
