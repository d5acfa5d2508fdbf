"""A turn for a company with a Rasa side: its rules, forms and custom actions beside the FAQ routes.

The message is classified as for any company (a button's ``/intent{"entity": "value"}`` payload names its
intent and entities itself, as in Rasa), then added to the conversation's tracker with its entities and the
slots they fill. What answers it:

- while a form runs: the form (the customer's answer to its question, validated by ``validate_<form>``). When
  the message gave nothing for the question, Rasa rejects the form; the message is answered as it would be
  outside the form (its rule's actions, the FAQ, small talk…) and the form asks its question again. "Never
  mind" (or the ``stop`` intent) ends the form, and asking for a person ends it and hands over;
- an intent a rule claims: the rule's actions, and the form it starts;
- anything else: the FAQ, small talk, a person or the fallback, as without a Rasa side.

Custom actions run on the action server from the event loop, so a slow one holds up only its conversation. A
rejected action gets the fallback; a failed one (unknown action, server error, refused, timed out) an apology
that offers a person. The customer's message, every reply and the tracker's new events are stored in one
transaction.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.rasa import events
from bot.rasa.action_client import ActionRejected
from bot.rasa.assistant import RasaAssistant
from bot.rasa.custom_slots import extract_on_server, extraction_actions
from bot.rasa.dialogue import ActionRunner, ActionTurn
from bot.rasa.tracker import Tracker
from bot.turn.memory import ConversationMemory
from bot.turn.outcome import BotReply, Turn, record
from bot.turn.policy import HANDOFF_INTENTS, SMALLTALK_INTENTS, Route
from bot.turn.rasa_messages import payload, said_in
from training.data import OOS_LABELS

if TYPE_CHECKING:
    from bot.turn.engine import DialogueEngine

LEAVE_WORDS = re.compile(r"\b(never\s?mind|forget (it|about it)|stop (it|this|that)|cancel (it|this|that))\b", re.I)
LEAVE_INTENTS = frozenset({"stop"})  # Rasa's usual name for "I don't want to go on"
NLU_FALLBACK = "nlu_fallback"  # the intent Rasa's FallbackClassifier gives a message NLU is unsure of


@dataclass(frozen=True)
class Heard:
    """The message as the tracker took it in."""

    base: BotReply  # the reply the FAQ routes would give (or, for a payload, just its intent)
    intent: str  # as Rasa names it: ``nlu_fallback`` when the classifier is unsure
    text: str
    tracker: Tracker
    added: list[dict[str, Any]]  # the events the message added (its start, ``user``, the slots it filled)
    slots_before: dict[str, Any]


class RasaTurn:
    """One customer message, answered with the company's Rasa side."""

    def __init__(self, engine: DialogueEngine, assistant: RasaAssistant) -> None:
        self.engine, self.assistant = engine, assistant

    async def respond(self, conversation_id: str, text: str, client_id: str | None,
                      memory: ConversationMemory | None, metadata: dict[str, Any] | None = None,
                      input_channel: str = "helpline") -> Turn:
        started = time.perf_counter()
        engine = self.engine
        if memory is None:
            memory = await engine.in_thread(ConversationMemory.read, engine.store, conversation_id,
                                                    engine.settings.context_turns)
        stored = engine.redactor.redact(text)
        try:
            heard = await self._hear(conversation_id, text, client_id, memory, metadata, input_channel)
            replies, turn = await self._act(heard)
        except Exception:  # the message is kept even when the bot cannot answer it
            await engine.in_thread(engine.store.log_customer, conversation_id, stored, client_id)
            raise
        return await engine.in_thread(self._log, conversation_id, stored, client_id, memory, heard,
                                              replies, turn, started)

    async def _hear(self, conversation_id: str, text: str, client_id: str | None, memory: ConversationMemory,
                    metadata: dict[str, Any] | None, input_channel: str) -> Heard:
        """Classify the message and add it to the conversation's tracker (a new session opened first)."""
        assistant = self.assistant
        base, intent, entities, tracker = await self.engine.in_thread(self._understand, conversation_id, text,
                                                                        memory)
        resumed = [events.resume()] if tracker.paused else []  # paused by an action, and now the bot's again
        for event in resumed:
            tracker.apply(event)
        before = dict(tracker.slots)
        started = None
        if assistant.overrides("action_session_start") and assistant.session_start(tracker):
            started = await assistant.start_session_on_server(tracker)
        ranking = base.ranking
        if intent != base.intent:  # Rasa's FallbackClassifier: nlu_fallback first, then what NLU ranked
            ranking = [(intent, base.confidence), *ranking]
        added = resumed + assistant.heard(tracker, text, client_id, intent, base.confidence, ranking, entities,
                                          started, metadata, input_channel)
        return Heard(base, intent, text, tracker, added, before)

    def _understand(self, conversation_id: str, text: str, memory: ConversationMemory
                    ) -> tuple[BotReply, str, list[dict[str, Any]] | None, Tracker]:
        """The routes' reply, the intent as Rasa names it, a payload's entities, and the stored tracker."""
        assistant, engine = self.assistant, self.engine
        pressed = payload(text, assistant.domain.intents)
        if pressed is not None:
            intent, entities = pressed
            base = BotReply(uuid.uuid4().hex, "", Route.ACTION, intent, 1.0, [(intent, 1.0)],
                            model_version=engine.models.classifier.version)
        else:
            entities, base = None, engine.decide(text, memory.recent)
            intent = NLU_FALLBACK if not base.in_scope and base.intent not in OOS_LABELS else base.intent
        return base, intent, entities, assistant.tracker(conversation_id, engine.store.rasa_events(conversation_id))

    async def _act(self, heard: Heard) -> tuple[list[BotReply], ActionTurn | None]:
        """The replies to the message, and what the actions did (None when no action answered it)."""
        assistant, tracker = self.assistant, heard.tracker
        extractors = extraction_actions(assistant.domain)
        server = assistant.action_server() if extractors else None
        if server is not None:
            try:  # the action server's part of slot filling, before anything answers
                heard.added.extend(await extract_on_server(server, assistant.domain, tracker, extractors))
            finally:
                await server.aclose()
        said = said_in(heard.base, heard.added, "action_extract_slots")  # a session start's, slot extraction's
        replies, turn = await self._answer(heard)
        return [*said, *replies], turn

    async def _answer(self, heard: Heard) -> tuple[list[BotReply], ActionTurn | None]:
        assistant, tracker, base, text = self.assistant, heard.tracker, heard.base, heard.text
        rules, intent, form = assistant.rules, heard.intent, tracker.active_loop_name
        own, starts = rules.actions_for(intent), rules.form_for(intent)
        wanted = [*own, starts] if starts and starts != form else own
        if form is None and not wanted:
            return [self._said(tracker, self._unclaimed(base))], None
        server = assistant.action_server()
        runner = ActionRunner(server, assistant.domain, rules, assistant.slots)
        turn = ActionTurn(slots_before=heard.slots_before)
        try:
            if form is not None and (intent in LEAVE_INTENTS or base.route is Route.HANDOFF
                                     or LEAVE_WORDS.search(text)):
                await runner.run(tracker, ["action_deactivate_loop"], turn)
                said = base if base.route is Route.HANDOFF else replace(base, text=self.engine.replies.form_left,
                                                                          route=Route.ACTION, suggestions=[])
                return [self._said(tracker, said, turn)], turn
            first = wanted if form is None else [form]
            replies = await self._run(runner, tracker, turn, first, base)
            if turn.form_rejected and turn.failed is None:  # not an answer to the form's question
                if wanted:
                    replies += await self._run(runner, tracker, turn, wanted, base)
                else:
                    replies.append(self._said(tracker, self._unclaimed(base), turn))
                resumed = tracker.active_loop_name
                if turn.failed is None and resumed is not None and resumed == form:  # back to its question
                    self._add(tracker, turn, events.loop_interrupted(True))
                    replies += await self._run(runner, tracker, turn, [resumed], base)
        finally:
            if server is not None:
                await server.aclose()
        return self._failed(base, turn, replies), turn

    async def _run(self, runner: ActionRunner, tracker: Tracker, turn: ActionTurn, actions: list[str],
                   base: BotReply) -> list[BotReply]:
        """Run ``actions``; their messages, as replies naming the action that said each."""
        start = len(turn.events)
        await runner.run(tracker, actions, turn)
        return said_in(base, turn.events[start:])

    def _unclaimed(self, base: BotReply) -> BotReply:
        """The reply of the usual routes; for a pressed button no rule claims, the one its intent's route gives
        (it was never classified, so it has no FAQ answer)."""
        if base.route is not Route.ACTION:
            return base
        replies = self.engine.replies
        if base.intent in SMALLTALK_INTENTS:
            return replace(base, text=replies.smalltalk(base.intent), route=Route.SMALLTALK)
        if base.intent in HANDOFF_INTENTS:
            return replace(base, text=replies.handoff, route=Route.HANDOFF)
        return replace(base, text=replies.low_confidence, route=Route.FALLBACK)

    def _failed(self, base: BotReply, turn: ActionTurn, replies: list[BotReply]) -> list[BotReply]:
        """The replies, with the customer's answer when an action failed."""
        if turn.failed is None:
            return replies
        replies_ = self.engine.replies
        if isinstance(turn.failed, ActionRejected):
            return [*replies, replace(base, reply_id=uuid.uuid4().hex, text=replies_.low_confidence,
                                      route=Route.FALLBACK, faq_id=None, score=None)]
        return [*replies, replace(base, reply_id=uuid.uuid4().hex, text=replies_.action_failed, route=Route.ACTION,
                                  faq_id=None, score=None, suggestions=[replies_.talk_to_person])]

    def _said(self, tracker: Tracker, reply: BotReply, turn: ActionTurn | None = None) -> BotReply:
        """A reply the engine gave (not an action's), told to the tracker as a bot message."""
        self._add(tracker, turn, events.bot(reply.text))
        return reply

    @staticmethod
    def _add(tracker: Tracker, turn: ActionTurn | None, event: dict[str, Any]) -> None:
        tracker.apply(event)
        if turn is not None:
            turn.events.append(event)

    def _log(self, conversation_id: str, stored: str, client_id: str | None, memory: ConversationMemory,
             heard: Heard, replies: list[BotReply], turn: ActionTurn | None, started: float) -> Turn:
        engine, tracker = self.engine, heard.tracker
        decision = heard.base if turn is None else replace(heard.base, route=Route.ACTION, faq_id=None, score=None)
        handoff = None
        if replies:
            first, handoff, flagged = engine.settle(replies[0], memory, started)
            if turn is not None:
                first = replace(first, actions=turn.summary())
            replies[0] = first
            decision = replace(decision, route=first.route, latency_ms=first.latency_ms)
        else:
            flagged = False
        if handoff == "fallbacks" and tracker.active_loop_name:  # a person takes over: the form is left
            for event in [events.action("action_deactivate_loop"), events.active_loop(None)]:
                self._add(tracker, turn, event)
        paused = any(event.get("event") == "pause" for event in (turn.events if turn else []))
        if paused and handoff is None:  # an action's ``pause``: a person takes over
            handoff = "asked"
        self._add(tracker, None, events.action("action_listen"))
        new_events = [*heard.added, *(turn.events if turn else [_bot_event(r) for r in replies if r.action is None]),
                      events.action("action_listen")]
        message_id, reply_ids = engine.store.log_replies(
            conversation_id, stored, client_id, record(decision, flagged),
            [record(reply, flagged and i == 0) for i, reply in enumerate(replies)],
            then_state="waiting" if handoff else None, reopen=memory.state == "closed",
            rasa_events=[_redacted(event, engine) for event in new_events],
        )
        if replies and not reply_ids:  # a person took the conversation over while the bot was deciding
            holder = engine.store.conversation_state(conversation_id)
            memory.state, memory.agent = holder.state, holder.agent_name
            memory.asked(stored)
            return Turn(conversation_id, message_id)
        route = decision.route.value
        memory.answered(stored, decision.intent, route, decision.faq_id, "waiting" if handoff else "bot")
        if not replies:
            return Turn(conversation_id, message_id)
        return Turn(conversation_id, message_id, replies[0], reply_ids[0], handoff, tuple(replies[1:]),
                    tuple(reply_ids[1:]))


def _bot_event(reply: BotReply) -> dict[str, Any]:
    return events.bot(reply.text)


def _redacted(event: dict[str, Any], engine: DialogueEngine) -> dict[str, Any]:
    """A customer's message is stored masked, in the tracker as in the transcript."""
    if event.get("event") != "user" or not isinstance(event.get("text"), str):
        return event
    masked = engine.redactor.redact(event["text"])
    if masked == event["text"]:
        return event
    parse_data = {**(event.get("parse_data") or {}), "text": masked}
    return {**event, "text": masked, "parse_data": parse_data}
