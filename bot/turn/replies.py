"""Canned replies of a company: greetings, thanks, goodbyes, handoff and fallback texts."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Replies:
    """What the bot says when it is not answering from the FAQ; loaded from ``company.json``."""

    company: str = "our shop"
    welcome: str = "Hi! Ask me anything about your order, shipping, returns or your account."
    greeting: tuple[str, ...] = ("Hello! How can I help you today?",)
    thanks: tuple[str, ...] = ("You're welcome! Anything else I can help with?",)
    goodbye: tuple[str, ...] = ("Goodbye, and thanks for getting in touch!",)
    handoff: str = "I'm bringing in a person from our support team; they will join this chat shortly."
    fallback: str = "Sorry, I'm not sure I understood. Did you mean one of these? You can also ask for a person."
    low_confidence: str = "I'm not completely sure what you mean. Is it one of these? You can also ask for a person."
    action_failed: str = ("Sorry, I can't do that right now. Please try again in a moment, or ask for a person "
                          "and someone from our team will help you.")
    form_left: str = "All right, I've stopped there. Is there anything else I can help with?"
    talk_to_person: str = "Talk to a person"  # the suggestion offered when an action failed
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    @classmethod
    def load(cls, path: Path) -> Replies:
        """Read a ``company.json``; a missing file gives the defaults, a broken one a clear error."""
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path.name} line {exc.lineno}: {exc.msg}") from exc
        replies = raw.get("replies", {})
        defaults = cls()

        def variants(key: str) -> tuple[str, ...]:
            value = replies.get(key)
            if value is None:
                return tuple(getattr(defaults, key))
            return (value,) if isinstance(value, str) else tuple(value)

        return cls(
            company=raw.get("name", defaults.company),
            welcome=raw.get("welcome", defaults.welcome),
            greeting=variants("greeting"),
            thanks=variants("thanks"),
            goodbye=variants("goodbye"),
            handoff=replies.get("handoff", defaults.handoff),
            fallback=replies.get("fallback", defaults.fallback),
            low_confidence=replies.get("low_confidence", defaults.low_confidence),
            action_failed=replies.get("action_failed", defaults.action_failed),
            form_left=replies.get("form_left", defaults.form_left),
            talk_to_person=replies.get("talk_to_person", defaults.talk_to_person),
        )

    def smalltalk(self, intent: str) -> str:
        options: tuple[str, ...] = getattr(self, intent)
        return self._rng.choice(options)
