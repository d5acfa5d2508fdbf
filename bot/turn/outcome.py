"""What a turn gives: the bot's replies (with why it gave them), and what the transcript keeps of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.conversations.handoff import TurnLogged
from bot.store.transcripts import BotReplyRecord
from bot.turn.policy import Route


@dataclass(frozen=True)
class BotReply:
    """The bot's answer to one customer message, with everything the transcript explains."""

    reply_id: str
    text: str
    route: Route
    intent: str
    confidence: float
    ranking: list[tuple[str, float]] = field(default_factory=list)
    faq_id: str | None = None
    score: float | None = None
    suggestions: list[str] = field(default_factory=list)
    model_version: str = ""
    latency_ms: float = 0.0
    followed_up: bool = False
    in_scope: bool = True  # False when the classifier was unsure or named an out-of-scope label
    action: str | None = None  # the custom action (or response) that said it
    buttons: list[dict[str, Any]] = field(default_factory=list)  # Rasa buttons: a title, and the payload it sends
    image: str | None = None
    custom: Any = None  # a custom action's structured message (Rasa's ``custom`` / ``json_message``)
    actions: dict[str, Any] | None = None  # what the turn's actions did, on its first reply (for the console)


@dataclass(frozen=True)
class Turn:
    """One customer message and what came of it; ``reply`` is None while a person handles the chat."""

    conversation_id: str
    message_id: int
    reply: BotReply | None = None
    reply_message_id: int | None = None
    handoff: str | None = None  # "asked" | "fallbacks" when this turn asked for a person
    more: tuple[BotReply, ...] = ()  # a custom action's further messages, after ``reply``
    more_ids: tuple[int, ...] = ()

    @property
    def replies(self) -> list[BotReply]:
        return [] if self.reply is None else [self.reply, *self.more]

    @property
    def logged(self) -> TurnLogged:
        ids = (self.message_id,) if self.reply_message_id is None else (self.message_id, self.reply_message_id)
        return TurnLogged(self.conversation_id, (*ids, *self.more_ids), self.handoff)


def structured(reply: BotReply) -> dict[str, Any]:
    """A custom action's structured message beside the text: its buttons, image and custom payload, when it has
    them (a custom payload of 0, false or an empty list is one)."""
    shown: dict[str, Any] = {"buttons": reply.buttons} if reply.buttons else {}
    shown.update({key: value for key, value in (("image", reply.image), ("custom", reply.custom))
                  if value is not None})
    return shown


def record(reply: BotReply, flagged: bool) -> BotReplyRecord:
    """What the transcript keeps of a reply."""
    shown = structured(reply)
    data = {key: value for key, value in (("message", shown), ("actions", reply.actions)) if value}
    return BotReplyRecord(
        reply_id=reply.reply_id, text=reply.text, intent=reply.intent, confidence=reply.confidence,
        ranking=[list(pair) for pair in reply.ranking], route=reply.route.value, faq_id=reply.faq_id,
        score=reply.score, suggestions=reply.suggestions, model_version=reply.model_version,
        latency_ms=reply.latency_ms, flagged=flagged, action=reply.action, data=data or None,
    )

