"""Classifier latency and throughput on the CPU: PyTorch fp32 against ONNX Runtime fp32 and int8.

    .venv/bin/python -m benchmarks.classifier_speed [--epochs 1] [--model DIR] [--threads N] [--no-record]

A BANKING77 classifier is trained as benchmarks.banking77 trains it (train.csv, seeded; one epoch by default,
to stay near ten minutes on two cores) into ``--model`` and reused from there on later runs; its ONNX graphs
are the ones training writes. Each variant then classifies one message at a time and batches of 8, 32, 128
and 256 BANKING77 test texts through ``predict`` (tokenisation included), each variant in a block of its own
on the same batches: p50/p95 latency per call and texts per second. Beside the speed:
each variant's accuracy on the whole BANKING77 test set, and StackFAQ top-1 / MRR@10 of the sentence encoder
in PyTorch fp32, ONNX fp32 and ONNX int8 (the index and the queries encoded by the variant, and int8 queries
against an fp32 index, as a server sees when its FAQ was ingested by PyTorch). The line "auto" says which
precisions meet the issue's bars (BANKING77 within 0.5 points of fp32, StackFAQ top-1 within 0.005).
Prints one JSON line and records the section "Classifier latency and throughput" in benchmarks/RESULTS.md.
Data: $HELPLINE_SHARED_DATA (default ../shared/data beside the repo).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks import banking77, stackfaq
from benchmarks.results import record
from core.onnx_encoder import OnnxSentenceEncoder
from core.sentence_encoder import SentenceEncoder, TextEncoder
from retrieval.evaluate import DEPTH, load_queries, score_rankings
from retrieval.faq import entry_text, load_faq
from retrieval.index import FaissFaqIndex
from training.args import TrainingArguments
from training.data import load_examples
from training.evaluate import score
from training.model import CPU_BATCH, Classifier, IntentClassifier
from training.onnx_classifier import OnnxClassifier
from training.onnx_export import classifier_graph, encoder_graph
from training.trainer import train

SECTION = "Classifier latency and throughput"
ROOT = Path(__file__).resolve().parents[1]
SIZES = (1, 8, 32, 128, 256)
TEXTS_PER_SIZE = 1024  # each batch size runs about this many texts per variant (at least MIN_CALLS calls)
MIN_CALLS = 10
SINGLE_CALLS = 300  # one-message calls per variant
PADDED_CALLS = 5  # calls of the largest size run as one padded batch, for comparison
ACCURACY_BAR, TOP1_BAR = 0.005, 0.005  # what int8 may cost: BANKING77 accuracy (0.5 points), StackFAQ top-1


def trained_model(folder: Path, epochs: int, seed: int) -> Path:
    """The BANKING77 model in ``folder``, trained there first if it holds none."""
    if not (folder / "config.json").is_file():
        args = TrainingArguments(epochs=epochs, seed=seed, device="cpu")
        train(load_examples(banking77.data_dir() / "train.csv"), args, None, folder, progress=True, overwrite=True)
    return folder


def timings(variants: dict[str, Classifier], texts: list[str], size: int, seed: int,
            chunk: int | None = None, calls: int | None = None) -> dict[str, list[float]]:
    """Seconds per ``predict`` call of ``size`` texts, every variant on the same batches. ``chunk``: texts per
    forward pass (default: the classifier's, as served).

    Each variant runs its calls in a block of its own: taking turns call by call let one runtime's threads,
    still spinning after their call, slow the next runtime's call (int8 one message measured 6.4 ms so, 1.7 ms
    alone)."""
    calls = calls or (SINGLE_CALLS if size == 1 else max(MIN_CALLS, TEXTS_PER_SIZE // size))
    rng = random.Random(seed)
    batches = [rng.sample(texts, size) for _ in range(calls)]
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for name, model in variants.items():
        model.predict(batches[0], batch_size=chunk)  # warm-up: first-call allocations stay out of the figures
        for batch in batches:
            started = time.perf_counter()
            model.predict(batch, batch_size=chunk)
            seconds[name].append(time.perf_counter() - started)
        time.sleep(0.2)  # let this runtime's threads go idle before the next one starts
    return seconds


def latency(seconds: list[float], size: int) -> dict[str, float]:
    p95 = float(np.percentile(seconds, 95))
    return {"p50_ms": round(1000 * statistics.median(seconds), 2), "p95_ms": round(1000 * p95, 2),
            "texts_per_s": round(size * len(seconds) / sum(seconds), 1), "calls": len(seconds)}


def retrieval_scores(encoders: dict[str, TextEncoder]) -> dict[str, dict[str, float]]:
    """StackFAQ top-1 and MRR@10 per encoder, and int8 queries against the fp32 ONNX index."""
    folder = stackfaq.data_dir()
    entries, queries = load_faq(folder / "faq.jsonl"), load_queries(folder / "queries.jsonl")
    documents, texts = [entry_text(e) for e in entries], [q.query for q in queries]
    vectors = {name: (encoder.encode(documents), encoder.encode(texts)) for name, encoder in encoders.items()}

    def scored(index_from: str, queries_from: str) -> dict[str, float]:
        index = FaissFaqIndex.build(entries, vectors[index_from][0])
        rankings = [[h.entry.id for h in row] for row in index.search_many(vectors[queries_from][1], DEPTH)]
        figures = score_rankings(rankings, queries)
        return {"top1": figures["top1"], "mrr@10": figures["mrr@10"]}

    result = {name: scored(name, name) for name in encoders}
    result["onnx int8 queries, fp32 index"] = scored("onnx fp32", "onnx int8")
    single: dict[str, list[float]] = {name: [] for name in encoders}
    for name, encoder in encoders.items():  # a block per encoder, as in ``timings``
        for text in texts[:200]:
            started = time.perf_counter()
            encoder.encode([text])
            single[name].append(time.perf_counter() - started)
        time.sleep(0.2)
    for name, seconds in single.items():
        result[name]["query_p50_ms"] = round(1000 * statistics.median(seconds), 2)
    return result


def auto_choice(report: dict[str, Any]) -> dict[str, Any]:
    """Which int8 models keep accuracy within the issue's bars."""
    acc = report["accuracy"]
    accuracy_drop = acc["onnx fp32"]["accuracy"] - acc["onnx int8"]["accuracy"]
    r = report["stackfaq"]
    top1_drop = r["onnx fp32"]["top1"] - min(r["onnx int8"]["top1"], r["onnx int8 queries, fp32 index"]["top1"])
    return {"classifier_int8": accuracy_drop <= ACCURACY_BAR + 1e-9, "encoder_int8": top1_drop <= TOP1_BAR + 1e-9,
            "accuracy_drop": round(accuracy_drop, 4), "top1_drop": round(top1_drop, 4)}


def markdown(report: dict[str, Any], command: str) -> str:
    """The RESULTS.md section body."""
    header = " | ".join("1 message" if size == 1 else f"batch of {size}" for size in SIZES)
    lines = [
        f"Command: `{command}` ({report['threads']} threads for every variant: torch intra-op, ONNX Runtime "
        f"intra-op with 1 inter-op; load average {report['load_before']} before, {report['load_after']} after; "
        f"torch {report['versions']['torch']}, onnxruntime {report['versions']['onnxruntime']}).",
        "",
        f"BANKING77 classifier trained {report['epochs']} epoch(s) on train.csv (seed {report['seed']}, the "
        f"recipe of benchmarks.banking77 otherwise); accuracy on all {report['n_test']} test rows. Each cell: "
        "p50 / p95 latency of one `predict` call (tokenisation included) and texts per second; batches are "
        "random test texts, the same for every variant, each variant running its calls in a block of its own. "
        f"A call runs its texts as served: sorted by length, {report['chunk']} per forward pass.",
        "",
        f"| variant | BANKING77 accuracy | {header} |",
        "| --- | --- | " + " | ".join("---" for _ in SIZES) + " |",
    ]
    for name, rows in report["latency"].items():
        cells = [f"{r['p50_ms']} / {r['p95_ms']} ms, {r['texts_per_s']:,.0f}/s" for r in rows.values()]
        lines.append(f"| {name} | {report['accuracy'][name]['accuracy']:.2%} | " + " | ".join(cells) + " |")
    padded = report["one_padded_batch"]
    lines += ["", f"The same {SIZES[-1]} texts as one batch padded to its longest text: " + ", ".join(
        f"{name} {r['texts_per_s']:,.0f}/s" for name, r in padded.items()) + "."]
    lines += ["", "StackFAQ (1,249 queries, 719 entries) with the sentence encoder each way; one query p50 is the "
              "latency of encoding one query:", "",
              "| encoder | top-1 | MRR@10 | one query p50 |", "| --- | --- | --- | --- |"]
    for name, r in report["stackfaq"].items():
        lines.append(f"| {name} | {r['top1']:.3f} | {r['mrr@10']:.3f} | "
                     f"{str(r['query_p50_ms']) + ' ms' if 'query_p50_ms' in r else '—'} |")
    auto = report["auto"]
    drop = -100 * auto["accuracy_drop"]
    lines += ["", f"int8 against fp32 ONNX: BANKING77 accuracy {drop:+.2f} points (bar: -0.50), "
              f"StackFAQ top-1 {-auto['top1_drop']:+.3f} at worst (bar: -0.005). So `HELPLINE_INFERENCE=auto` on a "
              f"CPU serves the classifier in {'int8' if auto['classifier_int8'] else 'fp32'} and the encoder in "
              f"{'int8' if auto['encoder_int8'] else 'fp32'} (`bot/inference/backends.py`, `AUTO_CPU`).",
              "", "int8 is ONNX Runtime's dynamic quantisation: weights per output channel, activations scaled per "
              "forward pass, so an int8 probability moves slightly with the texts that share its batch (accuracy "
              "was 92.44% when batches were not sorted by length). Timings vary with other work on the machine: "
              "read the columns against each other, and the load averages above."]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--epochs", type=int, default=1, help="BANKING77 training epochs (default 1)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--model", type=Path, default=None,
                        help="model folder to reuse, or train into (default var/benchmarks/banking77-e<N>-s<seed>)")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--no-record", action="store_true", help="do not write benchmarks/RESULTS.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return its report."""
    opts = parse_args(argv)
    import onnxruntime

    folder = opts.model or ROOT / "var" / "benchmarks" / f"banking77-e{opts.epochs}-s{opts.seed}"
    model = trained_model(folder, opts.epochs, opts.seed)
    torch.set_num_threads(opts.threads)
    variants: dict[str, Classifier] = {
        "pytorch fp32": IntentClassifier.load(model, device="cpu"),
        "onnx fp32": OnnxClassifier.load(model, classifier_graph(model, int8=False), opts.threads),
        "onnx int8": OnnxClassifier.load(model, classifier_graph(model, int8=True), opts.threads),
    }
    test = load_examples(banking77.data_dir() / "test.csv")
    texts = [e.text for e in test]
    report: dict[str, Any] = {"epochs": opts.epochs, "seed": opts.seed, "threads": opts.threads, "n_test": len(test),
                              "chunk": CPU_BATCH,
                              "load_before": round(os.getloadavg()[0], 1),
                              "versions": {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__}}
    measured = {size: timings(variants, texts, size, opts.seed) for size in SIZES}
    report["latency"] = {name: {str(size): latency(measured[size][name], size) for size in SIZES} for name in variants}
    padded = timings(variants, texts, SIZES[-1], opts.seed, chunk=SIZES[-1], calls=PADDED_CALLS)
    report["one_padded_batch"] = {name: latency(padded[name], SIZES[-1]) for name in variants}
    report["accuracy"] = {name: score([e.label for e in test], model.predict(texts, batch_size=128))
                          for name, model in variants.items()}
    graphs = ROOT / "var" / "benchmarks" / "encoders"
    encoders: dict[str, TextEncoder] = {
        "pytorch fp32": SentenceEncoder(device="cpu"),
        "onnx fp32": OnnxSentenceEncoder(encoder_graph(None, graphs, int8=False), threads=opts.threads),
        "onnx int8": OnnxSentenceEncoder(encoder_graph(None, graphs, int8=True), threads=opts.threads),
    }
    report["stackfaq"] = retrieval_scores(encoders)
    report["auto"] = auto_choice(report)
    report["load_after"] = round(os.getloadavg()[0], 1)
    print(json.dumps(report))
    if not opts.no_record:
        command = "python -m benchmarks.classifier_speed " + " ".join(argv if argv is not None else sys.argv[1:])
        record(SECTION, markdown(report, command.strip()))
    return report


if __name__ == "__main__":
    main()
