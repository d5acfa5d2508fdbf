"""The promotion gate: a candidate replaces production only if it is not worse beyond a tolerance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

OVERALL = (("accuracy", "accuracy"), ("macro_f1", "macro-F1"))  # (metrics key, how reasons name it)
EPSILON = 1e-9  # metrics are rounded to 4 decimals: a drop of exactly the tolerance is allowed


@dataclass(frozen=True)
class Decision:
    """Whether to promote, why, and whether a person overrode the gate."""

    promote: bool
    reasons: list[str] = field(default_factory=list)
    forced: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON stored in ``model_versions.decision``."""
        return {"promote": self.promote, "forced": self.forced, "reasons": list(self.reasons)}

    def force(self, why: str) -> Decision:
        """This decision overridden into a promotion (the gate's own reasons are kept)."""
        if self.promote and not self.forced:
            return self
        return Decision(promote=True, reasons=[*self.reasons, why], forced=True)


def _drop(candidate: float, production: float, tolerance: float) -> bool:
    return candidate < production - tolerance - EPSILON


DEFAULT_TOLERANCE = 0.01  # largest drop in accuracy, macro-F1 or an intent's F1 the gate lets through
DEFAULT_MIN_SUPPORT = 10  # evaluation rows an intent needs before its own F1 is gated


def _change(candidate: float, production: float) -> str:
    return f"{candidate:.4f} vs {production:.4f} ({candidate - production:+.4f})"


def decide(
    candidate: Mapping[str, Any],
    production: Mapping[str, Any] | None,
    tolerance: float = DEFAULT_TOLERANCE,
    min_support: int = DEFAULT_MIN_SUPPORT,
) -> Decision:
    """Gate a candidate on metrics of both models over the same evaluation set.

    Each metrics mapping holds ``accuracy``, ``macro_f1``, ``per_intent`` (label -> ``f1``, ``support``)
    and ``model_labels`` (the labels that model can predict). Refused when accuracy or macro-F1 drops more
    than ``tolerance``, or when an intent production knows, with at least ``min_support`` evaluation rows,
    drops F1 more than ``tolerance``. Intents production does not know have no baseline and never block.
    """
    if tolerance < 0 or min_support < 0:
        raise ValueError("tolerance and min_support must be >= 0")
    if production is None:
        return Decision(True, ["no production model to compare with: the first model is promoted"])
    failures: list[str] = []
    notes: list[str] = []
    for key, name in OVERALL:
        cand, prod = float(candidate[key]), float(production[key])
        line = f"{name} {_change(cand, prod)}"
        if _drop(cand, prod, tolerance):
            failures.append(f"{line} drops more than the tolerance {tolerance}")
        else:
            notes.append(line)
    cand_intents: Mapping[str, Any] = candidate.get("per_intent", {})
    prod_intents: Mapping[str, Any] = production.get("per_intent", {})
    prod_labels = set(production.get("model_labels", prod_intents))
    new = sorted(set(candidate.get("model_labels", ())) - prod_labels)
    for label in sorted(prod_intents):
        prod_row = prod_intents[label]
        support = int(prod_row.get("support", 0))
        if label not in prod_labels or support < min_support:
            continue
        cand_f1 = float(cand_intents.get(label, {}).get("f1", 0.0))
        if _drop(cand_f1, float(prod_row["f1"]), tolerance):
            failures.append(f"intent {label}: F1 {_change(cand_f1, float(prod_row['f1']))} on {support} "
                            f"evaluation rows drops more than the tolerance {tolerance}")
    if new:
        notes.append(f"new intents without a baseline: {', '.join(new)}")
    if failures:
        return Decision(False, failures)
    return Decision(True, [*notes, f"no intent with >= {min_support} evaluation rows drops F1 by more than "
                                   f"{tolerance}"])
