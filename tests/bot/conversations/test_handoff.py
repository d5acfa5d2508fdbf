"""Announcing turns to the consoles, on real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from functools import partial

from bot.conversations.events import AGENTS, LocalBus
from bot.conversations.handoff import HandoffService, TurnLogged
from bot.store.erasure import erase_conversation
from bot.store.transcripts import BotReplyRecord, TranscriptStore


def test_a_turn_erased_before_it_is_announced_sends_the_consoles_no_empty_row(store: TranscriptStore) -> None:
    bus = LocalBus()
    handoff = HandoffService(store, bus, lambda _: None)
    erased, _ = store.open_conversation()
    kept, _ = store.open_conversation()
    turns = {c: store.log_turn(c, "hello", None, BotReplyRecord(f"r{c[:8]}", "Hi!", "greeting", 0.9)) for c in
             (erased, kept)}
    store.write(partial(erase_conversation, conversation_id=erased, erased_by="cli"))

    async def heard() -> list[dict[str, object]]:
        async with bus.subscribe(AGENTS) as events:
            for conversation, (asked, answer) in turns.items():
                await handoff.announce(TurnLogged(conversation, (asked, answer or 0)))
            await bus.publish(AGENTS, {"type": "end"})
            found = []
            while (event := await asyncio.wait_for(anext(events), 10))["type"] != "end":
                found.append(event)
            return found

    events = asyncio.run(heard())
    assert [e["type"] for e in events] == ["message", "message", "conversation.updated"]
    assert all(e.get("conversation_id", kept) == kept for e in events)
    assert events[-1]["conversation"]["id"] == kept  # type: ignore[index]
