"""The promotion gate on metrics shaped like `training.report.evaluate_detailed`'s."""

from __future__ import annotations

from typing import Any

import pytest

from training.promotion import Decision, decide


def metrics(accuracy: float, macro_f1: float, **f1_and_support: tuple[float, int]) -> dict[str, Any]:
    return {
        "accuracy": accuracy, "macro_f1": macro_f1,
        "per_intent": {label: {"f1": f1, "support": support} for label, (f1, support) in f1_and_support.items()},
        "model_labels": sorted(f1_and_support),
    }


PRODUCTION = metrics(0.90, 0.88, refunds=(0.90, 20), shipping=(0.85, 20), rare=(0.80, 3))


def test_the_first_model_is_promoted() -> None:
    decision = decide(metrics(0.5, 0.5), None)
    assert decision.promote and not decision.forced and "first model" in decision.reasons[0]


def test_a_candidate_as_good_as_production_is_promoted_with_its_figures() -> None:
    candidate = metrics(0.905, 0.875, refunds=(0.91, 20), shipping=(0.845, 20), rare=(0.80, 3))
    decision = decide(candidate, PRODUCTION, tolerance=0.01, min_support=5)
    assert decision.promote
    assert any(r.startswith("accuracy 0.9050 vs 0.9000 (+0.0050)") for r in decision.reasons)


def test_a_drop_of_exactly_the_tolerance_is_allowed() -> None:
    candidate = metrics(0.89, 0.87, refunds=(0.89, 20), shipping=(0.84, 20), rare=(0.80, 3))
    assert decide(candidate, PRODUCTION, tolerance=0.01).promote


@pytest.mark.parametrize("key", ["accuracy", "macro_f1"])
def test_an_overall_drop_beyond_the_tolerance_refuses(key: str) -> None:
    candidate = metrics(0.90, 0.88, refunds=(0.90, 20), shipping=(0.85, 20), rare=(0.80, 3))
    candidate[key] -= 0.02
    decision = decide(candidate, PRODUCTION, tolerance=0.01)
    assert not decision.promote
    assert len(decision.reasons) == 1 and "drops more than the tolerance 0.01" in decision.reasons[0]


def test_one_intent_with_enough_support_dropping_refuses() -> None:
    candidate = metrics(0.90, 0.88, refunds=(0.70, 20), shipping=(0.86, 20), rare=(0.80, 3))
    decision = decide(candidate, PRODUCTION, tolerance=0.01, min_support=5)
    assert not decision.promote
    assert decision.reasons == [
        "intent refunds: F1 0.7000 vs 0.9000 (-0.2000) on 20 evaluation rows drops more than the tolerance 0.01"
    ]


def test_intents_under_min_support_are_not_gated() -> None:
    candidate = metrics(0.90, 0.88, refunds=(0.90, 20), shipping=(0.85, 20), rare=(0.10, 3))
    assert decide(candidate, PRODUCTION, min_support=5).promote
    assert not decide(candidate, PRODUCTION, min_support=3).promote


def test_new_intents_have_no_baseline_and_never_block() -> None:
    production = {**PRODUCTION, "per_intent": {**PRODUCTION["per_intent"], "loyalty": {"f1": 0.0, "support": 10}}}
    candidate = metrics(0.92, 0.90, refunds=(0.90, 20), shipping=(0.85, 20), rare=(0.80, 3), loyalty=(0.0, 10))
    # production never knew "loyalty": even a candidate still bad at it is not a drop
    production["per_intent"]["loyalty"]["f1"] = 0.5
    decision = decide(candidate, production, min_support=5)
    assert decision.promote
    assert "new intents without a baseline: loyalty" in decision.reasons


def test_force_keeps_the_reasons_and_records_it() -> None:
    refused = decide(metrics(0.5, 0.5), PRODUCTION)
    forced = refused.force("forced with --force")
    assert forced.promote and forced.forced
    assert forced.reasons == [*refused.reasons, "forced with --force"]
    assert forced.to_dict() == {"promote": True, "forced": True, "reasons": forced.reasons}
    promoted = Decision(True, ["fine"])
    assert promoted.force("forced") is promoted  # nothing to override


def test_negative_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="tolerance"):
        decide(PRODUCTION, PRODUCTION, tolerance=-0.1)
