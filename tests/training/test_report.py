"""Detailed evaluation and the HTML + PNG report, on the session's tiny real model."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.conftest import EXAMPLES
from training.evaluate import evaluate
from training.model import IntentClassifier
from training.report import CONFUSION_PNG, F1_PNG, evaluate_detailed, tabulate, write_report
from training.trainer import TrainResult

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_tabulate_counts_per_intent_scores_and_confusions() -> None:
    texts = ["a", "b", "c", "d", "e", "f"]
    gold = ["refund", "refund", "refund", "ship", "ship", "oos"]
    pred = ["refund", "ship", "ship", "ship", "oos", "oos"]
    per_intent, labels, confusion, top = tabulate(texts, gold, pred)
    assert labels == ["refund", "ship", "oos"]  # out-of-scope last
    assert per_intent["refund"] == {"precision": 1.0, "recall": 0.3333, "f1": 0.5, "support": 3}
    assert per_intent["ship"]["support"] == 2 and per_intent["ship"]["precision"] == pytest.approx(0.3333)
    assert confusion == [[1, 2, 0], [0, 1, 1], [0, 0, 1]]
    assert top == [
        {"gold": "refund", "predicted": "ship", "count": 2, "examples": ["b", "c"]},
        {"gold": "ship", "predicted": "oos", "count": 1, "examples": ["e"]},
    ]


@pytest.fixture(scope="module")
def classifier(tiny_model: TrainResult) -> IntentClassifier:
    return IntentClassifier.load(tiny_model.path, device="cpu")


def test_evaluate_detailed_scores_like_evaluate_and_adds_the_details(classifier: IntentClassifier) -> None:
    detailed = evaluate_detailed(classifier, EXAMPLES)
    plain = evaluate(classifier, EXAMPLES)
    assert {k: detailed.metrics[k] for k in plain} == plain
    per_intent = detailed.metrics["per_intent"]
    assert sum(row["support"] for row in per_intent.values()) == len(EXAMPLES)
    assert per_intent["oos"]["support"] == 10  # gold "oos" rows are scored as out-of-scope
    assert "oos" in detailed.metrics["model_labels"] and "top_up" in detailed.metrics["model_labels"]
    assert sum(map(sum, detailed.confusion)) == len(EXAMPLES)
    assert len(detailed.confusion) == len(detailed.labels)
    wrong = sum(c["count"] for c in detailed.top_confusions)
    right = sum(detailed.confusion[i][i] for i in range(len(detailed.labels)))
    assert wrong <= len(EXAMPLES) - right


def test_write_report_writes_html_with_inline_plots(classifier: IntentClassifier, tmp_path: Path) -> None:
    candidate = evaluate_detailed(classifier, EXAMPLES)
    production = evaluate_detailed(classifier, EXAMPLES[::2])
    decision = {"promote": False, "forced": False, "reasons": ["intent <top_up> dropped & more"]}
    index = write_report(tmp_path / "report", "20260101-000000-abcd", candidate, production, decision,
                         {"production_version": "20251231-000000-0000", "data": {"rows": 60}})
    assert index == tmp_path / "report" / "index.html"
    for name in (CONFUSION_PNG, F1_PNG):
        assert (tmp_path / "report" / name).read_bytes().startswith(PNG_SIGNATURE)
    page = index.read_text()
    assert "Model 20260101-000000-abcd" in page and "Decision: refused" in page
    assert "intent &lt;top_up&gt; dropped &amp; more" in page and "<top_up>" not in page
    assert page.count('src="data:image/png;base64,') == 2  # the page works wherever it is served from
    assert f"{candidate.metrics['accuracy']:.4f}" in page and "production F1" in page


def test_a_first_model_report_has_no_production_column_values(classifier: IntentClassifier, tmp_path: Path) -> None:
    candidate = evaluate_detailed(classifier, EXAMPLES[:12])
    index = write_report(tmp_path, "v1", candidate, None, {"promote": True, "forced": True, "reasons": ["first"]},
                         {})
    page = index.read_text()
    assert "Decision: promoted (forced)" in page and "<b>none</b>" in page
