"""Retraining from production: label ids kept, new labels added, both models scored, gated and reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.training.conftest import EXAMPLES, TINY_ARGS
from training.args import TrainingArguments
from training.data import Example
from training.model import IntentClassifier
from training.network import CosineHead, LinearHead
from training.retrain import (
    NoEvaluationSet,
    RetrainPlan,
    RetrainResult,
    grow_head,
    grown_labels,
    retrain,
    training_arguments,
)
from training.trainer import TrainResult

LOYALTY = [Example(text, "loyalty") for text in (
    "how do I earn loyalty points", "where can I see my reward points", "redeem my loyalty points",
    "do points expire", "how many points do I have", "join the rewards programme",
)]


def test_grown_labels_keep_the_old_order_and_append_new_ones_sorted() -> None:
    examples = [Example("x", "b"), Example("y", "zeta"), Example("z", "alpha")]
    assert grown_labels(["c", "b"], examples) == ["c", "b", "alpha", "zeta"]


@pytest.mark.parametrize("kind", ["cosine", "linear"])
def test_grow_head_copies_old_rows_and_starts_new_ones_at_their_means(kind: str) -> None:
    torch.manual_seed(0)
    old = CosineHead(8, 3) if kind == "cosine" else LinearHead(8, 3)
    means = torch.randn(5, 8)
    grown = grow_head(old, kind, means)
    old_state, new_state = old.state_dict(), grown.state_dict()
    weight = "weight" if kind == "cosine" else "linear.weight"
    assert new_state[weight].shape == (5, 8)
    assert torch.equal(new_state[weight][:3], old_state[weight])
    direction = torch.nn.functional.normalize(new_state[weight][3:], dim=-1)
    assert torch.allclose(direction, torch.nn.functional.normalize(means[3:], dim=-1), atol=1e-6)
    if kind == "cosine":
        assert torch.equal(new_state["log_scale"], old_state["log_scale"])
    else:
        assert torch.equal(new_state["linear.bias"][:3], old_state["linear.bias"])


def test_training_arguments_start_from_production_s(tiny_model: TrainResult) -> None:
    args = training_arguments(tiny_model.path, epochs=1, batch_size=None, device=None)
    assert args.max_length == TINY_ARGS["max_length"] and args.epochs == 1
    assert args.batch_size == TINY_ARGS["batch_size"]  # None: not given, production's value stays
    assert args.device is None  # trained with device="cpu", but the device belongs to this machine
    assert training_arguments(tiny_model.path, device="cpu").device == "cpu"
    assert training_arguments(None, epochs=3).max_length == TrainingArguments().max_length


def test_a_plan_needs_an_evaluation_set_and_a_known_start(tmp_path: Path) -> None:
    args = TrainingArguments(**TINY_ARGS)  # type: ignore[arg-type]
    with pytest.raises(NoEvaluationSet):
        RetrainPlan(train=EXAMPLES, eval=[], out_dir=tmp_path / "v", args=args)
    with pytest.raises(ValueError, match="start"):
        RetrainPlan(train=EXAMPLES, eval=EXAMPLES, out_dir=tmp_path / "v", args=args, start="scratch")
    plan = RetrainPlan(train=EXAMPLES, eval=EXAMPLES, out_dir=tmp_path / "v", args=args, production=None)
    assert plan.trained_from == "base"


@pytest.fixture(scope="module")
def fine_tuned(tiny_model: TrainResult, tmp_path_factory: pytest.TempPathFactory) -> RetrainResult:
    """One real fine-tune of the tiny production model with a new intent (1 epoch, 32 tokens)."""
    out_dir = tmp_path_factory.mktemp("retrain") / "20260101-000000-beef"
    plan = RetrainPlan(
        train=[*EXAMPLES, *LOYALTY], eval=[*EXAMPLES[::2], *LOYALTY[:2]], out_dir=out_dir,
        args=training_arguments(tiny_model.path, epochs=1, device="cpu"), production=tiny_model.path,
        tolerance=1.0, data_summary={"rows": len(EXAMPLES) + len(LOYALTY)},
    )
    return retrain(plan, progress=False)


def test_fine_tuning_keeps_label_ids_and_adds_the_new_intent(fine_tuned: RetrainResult,
                                                             tiny_model: TrainResult) -> None:
    production = IntentClassifier.load(tiny_model.path, device="cpu")
    candidate = IntentClassifier.load(fine_tuned.path, device="cpu")
    assert candidate.labels == [*production.labels, "loyalty"]
    assert candidate.network.head.state_dict()["weight"].shape[0] == len(production.labels) + 1
    assert candidate.data_summary["trained_from"] == tiny_model.path.name
    assert candidate.data_summary["new_labels"] == ["loyalty"]
    assert fine_tuned.trained_from == tiny_model.path.name
    predicted = candidate.predict([example.text for example in LOYALTY])
    assert sum(p.intent == "loyalty" for p in predicted) >= len(LOYALTY) // 2


def test_retrain_scores_both_models_on_the_same_rows_and_reports(fine_tuned: RetrainResult) -> None:
    assert fine_tuned.baseline is not None
    assert fine_tuned.candidate.metrics["n"] == fine_tuned.baseline.metrics["n"] == len(EXAMPLES[::2]) + 2
    assert "loyalty" not in fine_tuned.baseline.metrics["model_labels"]
    assert "loyalty" in fine_tuned.candidate.metrics["model_labels"]
    assert fine_tuned.decision.promote and not fine_tuned.decision.forced  # tolerance 1.0: nothing can drop
    assert "new intents without a baseline: loyalty" in fine_tuned.decision.reasons
    assert fine_tuned.report == fine_tuned.path / "report" / "index.html" and fine_tuned.report.is_file()
    stored = json.loads((fine_tuned.path / "evaluation.json").read_text())
    assert stored["decision"] == fine_tuned.decision.to_dict()
    assert stored["candidate"]["accuracy"] == fine_tuned.candidate.metrics["accuracy"]
    assert stored["data"] == {"rows": len(EXAMPLES) + len(LOYALTY)}
