"""One turn of the dialogue: classify the message, route it, pick the reply, log both sides."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
import numpy as np

from bot.inference.models import Models
from bot.privacy import log_redactor
from bot.settings import Settings
from bot.store.transcripts import TranscriptStore
from bot.turn import context
from bot.turn.actions import RasaTurn
from bot.turn.memory import ConversationMemory
from bot.turn.outcome import BotReply, Turn, record
from bot.turn.policy import Route, decide
from bot.turn.replies import Replies
from retrieval.index import Hit
from retrieval.store import FaqRetriever
from training.data import OOS_LABELS

R = TypeVar("R")

if TYPE_CHECKING:
    from bot.rasa.assistant import RasaAssistant


class DialogueEngine:
    """Answers customer messages; usable from the server, a CLI or a test without any transport."""

    def __init__(
        self, models: Models, store: TranscriptStore, replies: Replies, settings: Settings | None = None
    ) -> None:
        self.models = models
        self.store = store
        self.replies = replies
        self.settings = settings or Settings()
        self.redactor = log_redactor(self.settings)
        self.assistant: RasaAssistant | None = None  # the company's Rasa side (rules, forms, custom actions)
        # the worker threads customer turns may take (the server's ``HELPLINE_CUSTOMER_THREADS``), so that a
        # flood of customers leaves the agents' API threads of its own; None: AnyIO's shared pool
        self.threads: anyio.CapacityLimiter | None = None

    async def in_thread(self, func: Callable[..., R], *args: Any) -> R:
        """``func(*args)`` on a worker thread of the customers' share."""
        return await anyio.to_thread.run_sync(func, *args, limiter=self.threads)

    async def respond(self, conversation_id: str, text: str, client_id: str | None = None,
                      memory: ConversationMemory | None = None, metadata: dict[str, Any] | None = None,
                      input_channel: str = "helpline") -> Turn:
        """``answer`` off the event loop: inference and database writes run in a worker thread. With a Rasa
        side, the turn also keeps the conversation's tracker, and intents its rules claim (and the messages of
        a running form) are answered by its actions, on the event loop: a slow action server holds up only its
        own conversation. ``metadata`` and ``input_channel`` go into the tracker as Rasa puts them there (the
        message's ``metadata``, ``latest_input_channel``)."""
        assistant = self.assistant  # one snapshot per turn, as for the models
        if assistant is None or (memory is not None and memory.state in ("waiting", "agent")):
            return await self.in_thread(self.answer, conversation_id, text, client_id, memory)
        return await RasaTurn(self, assistant).respond(conversation_id, text, client_id, memory, metadata,
                                                       input_channel)

    def answer(self, conversation_id: str, text: str, client_id: str | None = None,
               memory: ConversationMemory | None = None) -> Turn:
        """Log the customer's message and, unless a person handles the chat, the bot's reply.

        ``memory``: what the caller (the customer's socket) keeps of the conversation between turns; without
        it, it is read from the database. Either way this turn's outcome is added to it.
        """
        started = time.perf_counter()
        if memory is None:
            memory = ConversationMemory.read(self.store, conversation_id, self.settings.context_turns)
        stored = self.redactor.redact(text)  # classified as typed, stored masked
        if memory.state in ("waiting", "agent"):  # the bot stays silent; agents see the message live
            memory.asked(stored)
            return Turn(conversation_id, self.store.log_customer(conversation_id, stored, client_id))
        try:  # the message and its reply (and a handoff) in one transaction
            reply, handoff, flagged = self.settle(self.decide(text, memory.recent), memory, started)
            message_id, reply_id = self.store.log_turn(
                conversation_id, stored, client_id, record(reply, flagged),
                then_state="waiting" if handoff else None, reopen=memory.state == "closed",
            )
        except Exception:  # the message is kept even when the bot cannot answer it or store the answer
            self.store.log_customer(conversation_id, stored, client_id)
            raise
        if reply_id is None:  # a person took the conversation over while the bot was deciding: silent
            holder = self.store.conversation_state(conversation_id)
            memory.state, memory.agent = holder.state, holder.agent_name
            memory.asked(stored)
            return Turn(conversation_id, message_id)
        memory.answered(stored, reply.intent, reply.route.value, reply.faq_id, "waiting" if handoff else "bot")
        return Turn(conversation_id, message_id, reply, reply_id, handoff)

    def settle(self, reply: BotReply, memory: ConversationMemory, started: float) -> tuple[BotReply, str | None, bool]:
        """The reply as sent, why it hands off (None, "asked" or "fallbacks") and whether it is flagged for review."""
        handoff = "asked" if reply.route is Route.HANDOFF else None
        if reply.route is Route.FALLBACK and memory.fallback_streak + 1 >= self.settings.fallbacks_before_handoff:
            reply, handoff = replace(reply, route=Route.HANDOFF, text=self.replies.handoff), "fallbacks"
        reply = replace(reply, latency_ms=round((time.perf_counter() - started) * 1000, 2))
        unsure = reply.confidence < self.settings.low_confidence
        return reply, handoff, reply.route is Route.FALLBACK or handoff == "fallbacks" or unsure

    def decide(self, text: str, recent: list[context.PastTurn]) -> BotReply:
        models = self.models  # one snapshot per turn, so a swap never mixes versions
        query, prediction, followed_up = text, None, False
        # The message's embedding, started beside its classification (the worker runs the two side by side):
        # an FAQ answer and the fallback's suggestions both search with it. Small talk and handoffs waste it.
        own_vector = models.retriever.embed_soon(text)
        earlier = context.antecedent(text, recent)
        if earlier is not None:
            combined = f"{earlier.text} {text}"
            own, joint = models.classifier.predict([text, combined])
            if decide(joint, models.retriever.categories).route is Route.FAQ:
                query, prediction, followed_up = combined, joint, True
            else:
                prediction = own
        if prediction is None:
            prediction = models.classifier.predict([text])[0]
        decision = decide(prediction, models.retriever.categories)
        base = BotReply(
            reply_id=uuid.uuid4().hex,
            text="",
            route=decision.route,
            intent=prediction.intent,
            confidence=round(prediction.confidence, 4),
            ranking=[(label, round(p, 4)) for label, p in prediction.ranking],
            model_version=models.classifier.version,
            followed_up=followed_up,
            in_scope=prediction.in_scope,
        )
        if decision.route is Route.SMALLTALK:
            return replace(base, text=self.replies.smalltalk(prediction.intent))
        if decision.route is Route.HANDOFF:
            return replace(base, text=self.replies.handoff)
        vector = None  # the message's embedding, encoded once however many ways it is searched
        if decision.route is Route.FAQ:
            vector = own_vector() if query == text else models.retriever.embed(query)
            hit = self._best_hit(models.retriever, vector, decision.category)
            if hit is not None:
                return replace(base, text=hit.entry.answer, faq_id=hit.entry.id, score=round(hit.score, 4))
        # an explicit out-of-scope class gets the fallback; unsure or unmatched in-scope messages the softer text
        fallback = self.replies.fallback if prediction.intent in OOS_LABELS else self.replies.low_confidence
        if self.settings.suggestions and (vector is None or query != text):
            vector = own_vector()
        return replace(base, text=fallback, route=Route.FALLBACK,
                       suggestions=self._suggestions(models.retriever, vector))

    def _best_hit(self, retriever: FaqRetriever, vector: np.ndarray, category: str | None) -> Hit | None:
        """The best FAQ entry in the intent's category, else in the whole FAQ, if it scores high enough."""
        for scope in ([category, None] if category else [None]):
            hits = retriever.retrieve(vector, k=1, category=scope)
            if hits and hits[0].score >= self.settings.faq_min_score:
                return hits[0]
        return None

    def _suggestions(self, retriever: FaqRetriever, vector: np.ndarray | None) -> list[str]:
        if self.settings.suggestions == 0 or vector is None:
            return []
        seen: list[str] = []
        for hit in retriever.retrieve(vector, k=self.settings.suggestions * 3):
            if hit.entry.question not in seen:
                seen.append(hit.entry.question)
            if len(seen) == self.settings.suggestions:
                break
        return seen
