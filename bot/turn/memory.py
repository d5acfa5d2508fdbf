"""What a turn needs to know of its conversation, kept between turns by the socket instead of re-read.

Every turn asks who answers (the bot, or a person), how many fallbacks came in a row and what the customer
asked last (for follow-ups). Reading that from the database each turn cost a round trip per message; the
customer's socket keeps it instead: read once when the socket opens, updated by each turn it answers, and
by the conversation's state events, which reach every socket of the conversation on every replica (they are
how the widget learns that an agent joined). When a state change and a message cross, the turn's write
checks the state in the database, so the bot never answers over an agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.store.transcripts import PastTurn, TranscriptStore


@dataclass
class ConversationMemory:
    """One conversation's state (and the agent holding it), fallback streak and recent customer turns (newest
    first)."""

    state: str
    fallback_streak: int
    limit: int
    recent: list[PastTurn] = field(default_factory=list)
    agent: str | None = None

    @classmethod
    def read(cls, store: TranscriptStore, conversation_id: str, limit: int) -> ConversationMemory:
        state, recent = store.turn_context(conversation_id, limit)
        return cls(state.state, state.fallback_streak, limit, recent, state.agent_name)

    def heard(self, event: dict[str, Any]) -> None:
        """A live event for this conversation: a state change (every transition resets the streak)."""
        if event.get("type") == "state" and isinstance(event.get("state"), str):
            self.state, self.fallback_streak = event["state"], 0
            self.agent = event.get("agent") if isinstance(event.get("agent"), str) else None

    def asked(self, text: str) -> None:
        """A customer message the bot stayed silent on (a person handles the chat)."""
        self._push(PastTurn(text, None, None, None, datetime.now(UTC)))

    def answered(self, text: str, intent: str, route: str, faq_id: str | None, state: str) -> None:
        """A customer message the bot answered; ``state`` is the conversation's state after the answer."""
        self._push(PastTurn(text, intent, route, faq_id, datetime.now(UTC)))
        self.fallback_streak = self.fallback_streak + 1 if route == "fallback" else 0
        if state != self.state:
            self.state, self.fallback_streak = state, 0

    def _push(self, turn: PastTurn) -> None:
        self.recent = [turn, *self.recent][: self.limit]
