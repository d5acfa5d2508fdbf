"""FAISS at scale: exact vs HNSW vs IVF over 10k, 100k and 1M 384-d vectors, and what the automatic choice picks.

    .venv/bin/python -m benchmarks.faiss_scale [--quick] [--sizes 10000,100000] [--pessimistic-max N] [--no-record]
    .venv/bin/python -m benchmarks.faiss_scale --calibrate [--no-record]

The vectors are synthetic (``benchmarks/faiss_corpus.py``: a mixture of low-rank Gaussians, topics > threads >
entries, fitted to MiniLM embeddings of StackFAQ and BANKING77). For each size: build time, index memory (the
serialized size and the process's RSS growth), single-query latency p50/p95 (one faiss thread, as a server
asks), batched throughput (1,000 queries in one call, every thread) and recall@10 against exact search on
1,000 new queries, over a sweep of each approximate index's search breadth; then the automatic choice's index
again on the isotropic model, whose neighbours are harder to find than real text's (sizes up to
``--pessimistic-max``, default 100,000: at 1M it is another HNSW build of several minutes). ``--quick`` runs 10k
and 100k only. Records the section "FAISS at scale" in benchmarks/RESULTS.md and plots recall against latency
beside it (benchmarks/faiss_scale.png). ``--calibrate`` instead sets both models beside real embeddings
(encodes StackFAQ and BANKING77: a few minutes on 2 cores) and records that in its own section. Prints one JSON
line last.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import psutil

from benchmarks.faiss_corpus import DIM, ISOTROPIC, PER_THREAD, Corpus, calibration, recall
from benchmarks.plots import figure
from benchmarks.results import RESULTS, record
from retrieval.index_choice import IndexKind, IndexPolicy

SECTION, CALIBRATION_SECTION = "FAISS at scale", "FAISS at scale: the synthetic vectors against real embeddings"
PLOT = Path(__file__).with_name("faiss_scale.png")
K, N_QUERIES, TARGET = 10, 1000, 0.99
SIZES, QUICK_SIZES = (10_000, 100_000, 1_000_000), (10_000, 100_000)
SINGLE_QUERIES, SINGLE_BUDGET_S = 300, 8.0  # one-at-a-time latency: this many queries, or fewer past the budget
EF_SWEEP = (16, 32, 64, 128, 256, 512)
PROBE_SWEEP = (4, 8, 16, 32, 64, 128, 256)


def serialized_bytes(index: faiss.Index) -> int:
    """The size ``faiss.write_index`` gives the index (counted, not copied)."""
    total = 0

    def count(chunk: bytes) -> None:
        nonlocal total
        total += len(chunk)

    faiss.write_index(index, faiss.PyCallbackIOWriter(count))  # type: ignore[attr-defined]  # not in faiss's stubs
    return total


def rss() -> int:
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def speed(index: faiss.Index, queries: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """Batched ids and throughput, then single-query latency p50/p95 (as the bot asks)."""
    index.search(queries[:16], K)  # warm-up
    started = time.perf_counter()
    _, ids = index.search(queries, K)
    batch_s = time.perf_counter() - started
    single: list[float] = []
    budget_end = time.perf_counter() + SINGLE_BUDGET_S
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # one query, one thread: a second one waits on a busy core (see RESULTS.md)
    try:
        for row in queries[:SINGLE_QUERIES]:
            started = time.perf_counter()
            index.search(row[None, :], K)
            single.append(time.perf_counter() - started)
            if len(single) >= 20 and started > budget_end:
                break
    finally:
        faiss.omp_set_num_threads(threads)
    single.sort()
    return ids, {"batched_qps": round(len(queries) / batch_s, 1), "p50_ms": round(1000 * statistics.median(single), 3),
                 "p95_ms": round(1000 * single[int(0.95 * (len(single) - 1))], 3), "single_n": len(single)}


def measure_build(policy: IndexPolicy, vectors: np.ndarray, kind: IndexKind) -> tuple[Any, dict[str, Any]]:
    before = rss()
    started = time.perf_counter()
    index = policy.build(vectors, kind)
    build_s = time.perf_counter() - started
    return index, {"build_s": round(build_s, 2), "serialized_mb": round(serialized_bytes(index) / 2**20, 1),
                   "rss_delta_mb": round((rss() - before) / 2**20, 1)}


def sweep(index: Any, kind: IndexKind, queries: np.ndarray, truth: np.ndarray, values: Sequence[int],
          label: str) -> tuple[str, int, list[dict[str, Any]]]:
    """recall@10 and speed of ``index`` at each search breadth in ``values`` and the policy's own."""
    knob = "efSearch" if kind is IndexKind.HNSW else "nprobe"
    tuned = index.hnsw.efSearch if kind is IndexKind.HNSW else index.nprobe
    rows = []
    for value in sorted({*values, tuned}):
        if kind is IndexKind.IVF and value > index.nlist:
            continue
        if kind is IndexKind.HNSW:
            index.hnsw.efSearch = value
        else:
            index.nprobe = value
        ids, figures = speed(index, queries)
        rows.append({knob: value, "policy": value == tuned, "recall@10": round(recall(ids, truth), 4),
                     "top1": round(float(np.mean(ids[:, 0] == truth[:, 0])), 4), **figures})
        print(f"{label} {kind.value:5} {knob}={value:<4} {rows[-1]}", file=sys.stderr)
    return knob, tuned, rows


def run_size(n: int, policy: IndexPolicy, pessimistic_max: int) -> dict[str, Any]:
    """Every index type at ``n`` vectors; the exact one gives the truth the others are scored against."""
    corpus = Corpus(n)
    vectors, queries = corpus.sample(n, 1), corpus.sample(N_QUERIES, 2)
    del corpus
    out: dict[str, Any] = {"n": n, "auto": policy.kind(n).value, "vectors_mb": round(vectors.nbytes / 2**20, 1)}
    index, build = measure_build(policy, vectors, IndexKind.EXACT)
    truth, figures = speed(index, queries)
    out["exact"] = {**build, **figures, "recall@10": 1.0, "top1": 1.0}
    del index
    for kind, values in ((IndexKind.HNSW, EF_SWEEP), (IndexKind.IVF, PROBE_SWEEP)):
        index, build = measure_build(policy, vectors, kind)
        params = {"M": policy.hnsw_m, "efConstruction": policy.hnsw_ef_construction} if kind is IndexKind.HNSW \
            else {"nlist": index.nlist}
        knob, tuned, rows = sweep(index, kind, queries, truth, values, f"{n:>9,}")
        out[kind.value] = {**build, **params, "knob": knob, "tuned": tuned, "sweep": rows}
        del index
    del vectors
    out["isotropic"] = pessimistic(n, policy) if n <= pessimistic_max else {}
    print(f"{n:>9,} {json.dumps(out)}", file=sys.stderr)
    return out


def pessimistic(n: int, policy: IndexPolicy) -> dict[str, Any]:
    """The policy's approximate index for ``n`` on the isotropic model, whose neighbours are harder to find."""
    kind = policy.kind(n)
    if kind is IndexKind.EXACT:
        return {}
    corpus = Corpus(n, ISOTROPIC)
    vectors, queries = corpus.sample(n, 1), corpus.sample(N_QUERIES, 2)
    del corpus
    exact = faiss.IndexFlatIP(DIM)
    exact.add(vectors)
    truth = exact.search(queries, K)[1]
    del exact
    started = time.perf_counter()
    index = policy.build(vectors, kind)
    build_s = round(time.perf_counter() - started, 2)
    values = EF_SWEEP[2:] if kind is IndexKind.HNSW else PROBE_SWEEP[3:]
    knob, tuned, rows = sweep(index, kind, queries, truth, values, f"{n:>9,} isotropic")
    return {"kind": kind.value, "build_s": build_s, "knob": knob, "tuned": tuned, "sweep": rows}


def at_target(result: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The fastest setting of the sweep (by p50) that reaches recall@10 >= TARGET, or None."""
    block = result[kind]
    good = [r for r in block["sweep"] if r["recall@10"] >= TARGET]
    if not good:
        return None
    row = min(good, key=lambda r: r["p50_ms"])
    return {**block, **row, "setting": f"{block['knob']}={row[block['knob']]}"}


def chosen(result: dict[str, Any]) -> dict[str, Any]:
    """What the automatic choice builds at this size, as it tunes it."""
    kind = result["auto"]
    if kind == "exact":
        return {**result["exact"], "setting": "—"}
    block = result[kind]
    row = next(r for r in block["sweep"] if r["policy"])
    return {**block, **row, "setting": f"{block['knob']}={row[block['knob']]}"}


def row_cells(r: dict[str, Any]) -> str:
    return (f"{r['build_s']} s | {r['serialized_mb']:,} MB | {r['rss_delta_mb']:,} MB | {r['p50_ms']} ms | "
            f"{r['p95_ms']} ms | {r['batched_qps']:,} | {r['recall@10']:.4f} | {r['top1']:.4f} |")


def markdown(report: dict[str, Any], command: str) -> str:
    """The RESULTS.md section body."""
    policy = report["policy"]
    lines = [
        f"Command: `{command}` ({report['threads']} faiss threads for batches, one for single queries; "
        f"{report['total_s']:.0f} s in all; the machine is shared, so read ratios, not absolute times).",
        "",
        f"{DIM}-d unit vectors from a mixture of low-rank Gaussians (topics > threads of {PER_THREAD} entries > "
        f"entries) fitted to MiniLM embeddings (`benchmarks/faiss_corpus.py`; the fit is in the next section); "
        f"{N_QUERIES:,} new queries around the same threads, recall@10 against exact search on them. Latency: one "
        "query per call (p50/p95). Throughput: all queries in one call. Memory: faiss's serialized size, and "
        "the process's RSS growth over the build (allocator slack included). HNSW: M=%d, efConstruction=%d. "
        "IVF: nlist = %.0f × √n, spherical k-means seeded, on %d vectors a list. top-1: the share of "
        "queries whose first hit is exact search's (the entry the bot answers with)." % (
            policy["hnsw_m"], policy["hnsw_ef_construction"], policy["ivf_lists_per_sqrt"],
            policy["ivf_train_per_list"]),
        "",
        f"Each index at its fastest setting of the sweep with recall@10 ≥ {TARGET} (exact: 1 by definition):",
        "",
        "| vectors | index | setting | build | serialized | RSS growth | p50 | p95 | batched q/s | recall@10 | top-1 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in report["sizes"]:
        lines.append(f"| {result['n']:,} | exact | — | " + row_cells(result["exact"]))
        for kind in ("hnsw", "ivf"):
            r = at_target(result, kind)
            lines.append(f"| {result['n']:,} | {kind} | " + (f"{r['setting']} | " + row_cells(r) if r else
                         f"none of the sweep reaches {TARGET} | | | | | | | | |"))
    lines += ["", "What the automatic choice (`retrieval/index_choice.py`, `IndexPolicy`) builds at each size, and "
              "its recall@10 on the isotropic model too (harder than real text; see the next section):", "",
              "| vectors | index | setting | build | serialized | RSS growth | p50 | p95 | batched q/s | recall@10 "
              "| top-1 | recall@10, isotropic |", "| --- " * 12 + "|"]
    for result in report["sizes"]:
        r, hard = chosen(result), result["isotropic"]
        hard_recall = next((f"{x['recall@10']:.4f}" for x in hard.get("sweep", []) if x["policy"]),
                           "1 (exact)" if result["auto"] == "exact" else "not run (`--pessimistic-max`)")
        lines.append(f"| {result['n']:,} | **{result['auto']}** | {r['setting']} | {row_cells(r)} {hard_recall} |")
    lines += ["", "The sweeps (the policy's setting marked; `isotropic`: the pessimistic model):", "",
              "| vectors | index | setting | recall@10 | top-1 | p50 | p95 | batched q/s |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for result in report["sizes"]:
        blocks = [(kind, result[kind]) for kind in ("hnsw", "ivf")]
        if result["isotropic"]:
            blocks.append((f"{result['isotropic']['kind']}, isotropic", result["isotropic"]))
        for kind, block in blocks:
            for r in block["sweep"]:
                mark = " (policy)" if r["policy"] else ""
                lines.append(f"| {result['n']:,} | {kind} | {block['knob']}={r[block['knob']]}{mark} | "
                             f"{r['recall@10']:.4f} | {r['top1']:.4f} | {r['p50_ms']} ms | {r['p95_ms']} ms | "
                             f"{r['batched_qps']:,} |")
    lines += ["", f"![recall@10 against single-query latency]({PLOT.name})"]
    return "\n".join(lines)


def calibration_markdown(stats: dict[str, Any], command: str) -> str:
    """The section that sets the synthetic vectors beside real MiniLM embeddings."""
    lines = [f"Command: `{command}`. Encoder: all-MiniLM-L6-v2 (what the bot embeds FAQ entries with).", "",
             "Shape, on StackFAQ's 719 entries and 1,249 queries (the model sampled at the same sizes):", ""]
    for title, key in (("statistic", "shape"), ("recall@10 at 10,003 vectors, 1,000 queries", "ann")):
        if title != "statistic":
            lines += ["", "How hard neighbours are to find: BANKING77's 10,003 training texts indexed and 1,000 "
                      "test texts as queries, against the model at the same size (same index settings):", ""]
        names = list(stats[key])
        lines += [f"| {title} | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
        for stat in stats[key][names[0]]:
            lines.append(f"| {stat} | " + " | ".join(f"{stats[key][n][stat]:.3f}" for n in names) + " |")
    return "\n".join(lines)


def plot(report: dict[str, Any], path: Path = PLOT) -> None:
    """Recall@10 against single-query p50 for each size: the sweeps as lines, exact as a star."""
    with figure(path, (7, 4.5), dpi=120) as ax:
        for color, result in zip(("tab:blue", "tab:orange", "tab:green"), report["sizes"], strict=False):
            label = f"{result['n']:,}"
            blocks = [(kind, result[kind], style) for kind, style in (("hnsw", "o-"), ("ivf", "s--"))]
            if result["isotropic"]:
                blocks.append((f"{result['isotropic']['kind']} isotropic", result["isotropic"], "^:"))
            for kind, block, style in blocks:
                rows = block["sweep"]
                ax.plot([r["p50_ms"] for r in rows], [r["recall@10"] for r in rows], style, color=color,
                        label=f"{kind} {label}", markersize=4)
            ax.plot([result["exact"]["p50_ms"]], [1.0], "*", color=color, markersize=12, label=f"exact {label}")
        ax.axhline(0.99, color="grey", linewidth=0.8, linestyle=":")
        ax.set(xscale="log", xlabel="single-query latency p50 (ms, log)", ylabel="recall@10 vs exact",
               ylim=(0.7, 1.005), title=f"{DIM}-d vectors, 2 CPU cores")
        ax.legend(fontsize=7, ncol=3, loc="lower right")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k vectors only")
    parser.add_argument("--sizes", default=None, help="comma-separated sizes (default 10000,100000,1000000)")
    parser.add_argument("--pessimistic-max", type=int, default=100_000,
                        help="largest size the isotropic model is also run at (default 100000)")
    parser.add_argument("--calibrate", action="store_true",
                        help="instead: set the synthetic models beside real StackFAQ and BANKING77 embeddings")
    parser.add_argument("--no-record", action="store_true", help="do not write benchmarks/RESULTS.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark (or the calibration) and return its report."""
    opts = parse_args(argv)
    sizes = [int(s) for s in opts.sizes.split(",")] if opts.sizes else list(QUICK_SIZES if opts.quick else SIZES)
    policy = IndexPolicy()
    command = ("python -m benchmarks.faiss_scale " + " ".join(argv if argv is not None else sys.argv[1:])).strip()
    started = time.perf_counter()
    report: dict[str, Any] = {"threads": faiss.omp_get_max_threads(), "policy": dict(policy.__dict__)}
    if opts.calibrate:
        report["calibration"] = calibration(policy, real=True)
    else:
        report["sizes"] = [run_size(n, policy, opts.pessimistic_max) for n in sizes]
    report["total_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report))
    if not opts.no_record:
        if opts.calibrate:
            record(CALIBRATION_SECTION, calibration_markdown(report["calibration"], command))
        else:
            plot(report, RESULTS.with_name(PLOT.name))
            record(SECTION, markdown(report, command))
    return report


if __name__ == "__main__":
    main()
