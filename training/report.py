"""The evaluation report of a candidate against production: detailed metrics, PNG plots, one HTML page."""

from __future__ import annotations

import base64
import html
import json
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.data import Example, is_oos
from training.evaluate import score
from training.metrics import precision_recall_f1
from training.model import IntentClassifier, Prediction
from training.threshold import OOS

REPORT_DIR = "report"  # inside the version folder
CONFUSION_PNG = "confusion_matrix.png"
F1_PNG = "per_intent_f1.png"
TOP_CONFUSIONS = 10
EXAMPLES_PER_CONFUSION = 3
HEADLINE = ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision", "n")


@dataclass(frozen=True)
class Evaluation:
    """One model scored on an evaluation set: ``metrics`` (what is stored and gated) and the confusions."""

    metrics: dict[str, Any]  # training.evaluate's figures + per_intent + model_labels
    labels: list[str]  # rows and columns of ``confusion``
    confusion: list[list[int]]  # confusion[gold][predicted] counts
    top_confusions: list[dict[str, Any]]  # {"gold", "predicted", "count", "examples"}, most frequent first


def scored_labels(gold_labels: Sequence[str], predictions: Sequence[Prediction]) -> tuple[list[str], list[str]]:
    """Gold and predicted labels as `training.evaluate.score` counts them (every out-of-scope one as OOS)."""
    gold = [OOS if is_oos(label) else label for label in gold_labels]
    open_set = OOS in gold
    pred = [OOS if is_oos(p.intent) or (open_set and not p.in_scope) else p.intent for p in predictions]
    return gold, pred


def tabulate(texts: Sequence[str], gold: Sequence[str], pred: Sequence[str]) -> tuple[
        dict[str, dict[str, Any]], list[str], list[list[int]], list[dict[str, Any]]]:
    """Per-intent precision/recall/F1/support, the confusion matrix and the top confusions with examples."""
    labels = sorted(set(gold) | set(pred), key=lambda label: (label == OOS, label))
    gold_arr, pred_arr = np.array(gold, dtype=object), np.array(pred, dtype=object)
    per_intent = {}
    for label in labels:
        precision, recall, f1 = precision_recall_f1(gold_arr, pred_arr, label)
        per_intent[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                             "support": int(np.sum(gold_arr == label))}
    index = {label: i for i, label in enumerate(labels)}
    confusion = [[0] * len(labels) for _ in labels]
    mistakes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for text, g, p in zip(texts, gold, pred, strict=True):
        confusion[index[g]][index[p]] += 1
        if g != p:
            mistakes[(g, p)].append(text)
    counts = Counter({pair: len(found) for pair, found in mistakes.items()})
    top = [{"gold": g, "predicted": p, "count": count, "examples": mistakes[(g, p)][:EXAMPLES_PER_CONFUSION]}
           for (g, p), count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_CONFUSIONS]]
    return per_intent, labels, confusion, top


def evaluate_detailed(classifier: IntentClassifier, examples: Sequence[Example]) -> Evaluation:
    """Score ``classifier`` like `training.evaluate.evaluate`, plus per-intent F1 and the confusions."""
    texts = [example.text for example in examples]
    predictions = classifier.predict(texts)
    gold_labels = [example.label for example in examples]
    metrics = score(gold_labels, predictions)
    gold, pred = scored_labels(gold_labels, predictions)
    per_intent, labels, confusion, top = tabulate(texts, gold, pred)
    metrics["per_intent"] = per_intent
    # every model can answer "out of scope" (its threshold), so OOS always has a baseline
    metrics["model_labels"] = sorted({OOS if is_oos(label) else label for label in classifier.labels} | {OOS})
    return Evaluation(metrics, labels, confusion, top)


def plot_confusion(evaluation: Evaluation, path: Path, title: str) -> None:
    """A heatmap of the confusion matrix, rows normalised to the share of each gold intent."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no display

    counts = np.array(evaluation.confusion, dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(4.0, 0.35 * len(evaluation.labels) + 2.5)
    figure = Figure(figsize=(size + 1.0, size), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ticks = range(len(evaluation.labels))
    axes.set_xticks(ticks, evaluation.labels, rotation=90, fontsize=7)
    axes.set_yticks(ticks, evaluation.labels, fontsize=7)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title)
    if len(evaluation.labels) <= 30:  # counts stay readable up to ~30 intents
        for row, col in zip(*np.nonzero(counts), strict=True):
            axes.text(col, row, str(int(counts[row, col])), ha="center", va="center", fontsize=6,
                      color="white" if shares[row, col] > 0.5 else "black")
    figure.colorbar(image, ax=axes, label="share of the gold intent")
    figure.savefig(path, dpi=110)


def plot_f1(candidate: Evaluation, production: Evaluation | None, path: Path) -> None:
    """Per-intent F1 bars, candidate beside production."""
    from matplotlib.figure import Figure

    cand = candidate.metrics["per_intent"]
    prod = production.metrics["per_intent"] if production else {}
    labels = [label for label in candidate.labels if cand[label]["support"]]
    figure = Figure(figsize=(8, max(3.0, 0.3 * len(labels) + 1.5)), layout="constrained")
    axes = figure.add_subplot()
    rows = np.arange(len(labels))
    height = 0.4 if production else 0.8
    axes.barh(rows, [cand[label]["f1"] for label in labels], height, label="candidate", color="#2b6cb0")
    if production:
        axes.barh(rows + height, [prod.get(label, {}).get("f1", 0.0) for label in labels], height,
                  label="production", color="#a0aec0")
    axes.set_yticks(rows + (height / 2 if production else 0), labels, fontsize=7)
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("F1 on the evaluation set")
    axes.legend(loc="lower right", fontsize=8)
    figure.savefig(path, dpi=110)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.4f}" if isinstance(value, float) else html.escape(str(value))


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")  # inline: the page works anywhere it is served
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _headline(candidate: Evaluation, production: Evaluation | None) -> str:
    rows = []
    for key in HEADLINE:
        cand = candidate.metrics.get(key)
        if cand is None:
            continue
        prod = production.metrics.get(key) if production else None
        delta = cand - prod if isinstance(cand, float) and isinstance(prod, float) else None
        rows.append(f"<tr><th>{key}</th><td>{_cell(cand)}</td><td>{_cell(prod)}</td>"
                    f"<td>{'–' if delta is None else f'{delta:+.4f}'}</td></tr>")
    return "<table><tr><th></th><th>candidate</th><th>production</th><th>change</th></tr>" + "".join(rows) + "</table>"


def _per_intent(candidate: Evaluation, production: Evaluation | None) -> str:
    cand = candidate.metrics["per_intent"]
    prod = production.metrics["per_intent"] if production else {}
    known = set(production.metrics.get("model_labels", ())) if production else set()
    rows = []
    for label in candidate.labels:
        c, p = cand[label], prod.get(label)
        baseline = p["f1"] if p is not None and label in known else None
        delta = f"{c['f1'] - baseline:+.4f}" if baseline is not None else "new" if production else "–"
        rows.append(f"<tr><th>{html.escape(label)}</th><td>{c['support']}</td><td>{_cell(c['precision'])}</td>"
                    f"<td>{_cell(c['recall'])}</td><td>{_cell(c['f1'])}</td><td>{_cell(baseline)}</td>"
                    f"<td>{delta}</td></tr>")
    return ("<table><tr><th>intent</th><th>support</th><th>precision</th><th>recall</th><th>F1</th>"
            "<th>production F1</th><th>change</th></tr>" + "".join(rows) + "</table>")


def _confusions(evaluation: Evaluation) -> str:
    if not evaluation.top_confusions:
        return "<p>No confusions: every evaluation row was right.</p>"
    rows = [f"<tr><td>{html.escape(c['gold'])}</td><td>{html.escape(c['predicted'])}</td><td>{c['count']}</td>"
            f"<td>{'<br>'.join(html.escape(text) for text in c['examples'])}</td></tr>"
            for c in evaluation.top_confusions]
    return ("<table><tr><th>gold</th><th>predicted as</th><th>count</th><th>examples</th></tr>"
            + "".join(rows) + "</table>")


STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#1a202c}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #cbd5e0;padding:.25em .6em;
text-align:left;vertical-align:top}img{max-width:100%;height:auto}.promote{color:#276749}.refuse{color:#9b2c2c}
pre{background:#f7fafc;padding:.8em;overflow:auto}"""


def write_report(
    folder: Path,
    version: str,
    candidate: Evaluation,
    production: Evaluation | None,
    decision: Mapping[str, Any],
    details: Mapping[str, Any],
) -> Path:
    """Write ``folder``/index.html and the PNG plots; returns the HTML file's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    plot_confusion(candidate, folder / CONFUSION_PNG, f"candidate {version}")
    plot_f1(candidate, production, folder / F1_PNG)
    verdict = "promoted" if decision.get("promote") else "refused"
    if decision.get("forced"):
        verdict += " (forced)"
    reasons = "".join(f"<li>{html.escape(str(reason))}</li>" for reason in decision.get("reasons", []))
    baseline = html.escape(str(details.get("production_version") or "none"))
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Helpline model {html.escape(version)}</title>
<style>{STYLE}</style></head><body>
<h1>Model {html.escape(version)}</h1>
<p>Candidate against production <b>{baseline}</b> on the same evaluation set ({candidate.metrics["n"]} rows).</p>
<h2 class="{"promote" if decision.get("promote") else "refuse"}">Decision: {verdict}</h2>
<ul>{reasons}</ul>
<h2>Overall</h2>{_headline(candidate, production)}
<h2>Per intent</h2>{_image(folder / F1_PNG, "per-intent F1, candidate and production")}
{_per_intent(candidate, production)}
<h2>Top confusions (candidate)</h2>{_confusions(candidate)}
<h2>Confusion matrix (candidate)</h2>{_image(folder / CONFUSION_PNG, "confusion matrix of the candidate")}
<h2>Training</h2><pre>{html.escape(json.dumps(dict(details), indent=2, default=str))}</pre>
</body></html>
"""
    index = folder / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
