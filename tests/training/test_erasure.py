"""Erased conversations taken out of training-set CSVs and evaluation reports, the files replaced whole."""

from __future__ import annotations

import csv
from pathlib import Path

from training.data import load_examples
from training.dataset import Dataset, DatasetRow
from training.erasure import scrub_csv, scrub_report
from training.report import Evaluation, write_report


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_training_set_loses_exactly_the_rows_of_the_erased_conversations(tmp_path: Path) -> None:
    dataset = Dataset(train=[
        DatasetRow("where is my order", "orders", "seed"),
        DatasetRow("charged twice on [CARD]", "double_charge", "agent", 7, "anna"),
        DatasetRow('she said "hi,\nthere"', "greeting", "weak_feedback", 8, "anna"),
        DatasetRow("is my parcel late", "orders", "weak_confidence", 9, "ben"),
    ])
    path = dataset.write_csv(tmp_path / "train.csv")
    before = rows_of(path)

    assert scrub_csv(path, {"anna", "nobody"}) == 2

    assert rows_of(path) == [row for row in before if row["conversation_id"] != "anna"]
    assert [e.text for e in load_examples(path)] == ["where is my order", "is my parcel late"]  # still trains
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left beside it
    mtime = path.stat().st_mtime_ns
    assert scrub_csv(path, {"anna"}) == 0 and path.stat().st_mtime_ns == mtime  # nothing to drop: untouched


def test_a_set_written_before_rows_named_their_conversation_loses_the_erased_texts(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text("text,intent,source\ncharged twice on [CARD],double_charge,agent\nhi,greeting,seed\n")
    assert scrub_csv(path, {"anna"}, {"charged twice on [CARD]"}) == 1
    assert path.read_text().splitlines() == ["text,intent,source", "hi,greeting,seed"]
    assert scrub_csv(tmp_path / "old.csv", {"anna"}, ()) == 0


def test_a_report_keeps_its_figures_and_loses_the_erased_examples(tmp_path: Path) -> None:
    top = [{"gold": "refunds", "predicted": "orders", "count": 3,
            "examples": ["charged twice on [CARD] <again>", "where is my refund", "refund & return"]},
           {"gold": "orders", "predicted": "oos", "count": 1, "examples": ["charged twice on [CARD] <again>"]}]
    metrics = {"accuracy": 0.5, "macro_f1": 0.5, "n": 8, "per_intent": {
        label: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2} for label in ("refunds", "orders", "oos")}}
    evaluation = Evaluation(metrics, ["refunds", "orders", "oos"], [[1, 3, 0], [0, 1, 1], [0, 0, 2]], top)
    page = write_report(tmp_path / "report", "v1", evaluation, None, {"promote": True, "reasons": []}, {})
    assert "charged twice on [CARD] &lt;again&gt;" in page.read_text()

    assert scrub_report(page, {"charged twice on [CARD] <again>", "not in the report"}) == 2

    scrubbed = page.read_text()
    assert "charged twice" not in scrubbed
    assert "where is my refund<br>refund &amp; return</td>" in scrubbed  # the others stay, in order
    assert "<td>refunds</td><td>orders</td><td>3</td>" in scrubbed and "data:image/png;base64," in scrubbed
    assert scrub_report(page, {"charged twice on [CARD] <again>"}) == 0
