"""Which way a classified message goes: FAQ, small talk, a person, the fallback, or (for intents a Rasa rule
claims, and while a form runs) the company's custom actions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from training.data import OOS_LABELS

if TYPE_CHECKING:  # keeps torch out of commands that only route or read logs
    from training.model import Prediction

SMALLTALK_INTENTS = frozenset({"greeting", "thanks", "goodbye"})
HANDOFF_INTENTS = frozenset({"human_agent"})


class Route(StrEnum):
    FAQ = "faq"
    SMALLTALK = "smalltalk"
    FALLBACK = "fallback"
    HANDOFF = "handoff"
    ACTION = "action"


@dataclass(frozen=True)
class Decision:
    """The route for a prediction; ``category`` restricts FAQ retrieval when the intent names one."""

    route: Route
    category: str | None = None


def decide(prediction: Prediction, faq_categories: set[str]) -> Decision:
    """Route out-of-scope and unsure predictions to the fallback, the rest by intent."""
    if not prediction.in_scope or prediction.intent in OOS_LABELS:
        return Decision(Route.FALLBACK)
    if prediction.intent in SMALLTALK_INTENTS:
        return Decision(Route.SMALLTALK)
    if prediction.intent in HANDOFF_INTENTS:
        return Decision(Route.HANDOFF)
    category = prediction.intent if prediction.intent in faq_categories else None
    return Decision(Route.FAQ, category)
