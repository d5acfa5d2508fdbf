"""Erase customers' conversations (a GDPR erasure request): the rows in the database, the rows of the training
sets and the examples of the model reports made from them, and a record that it was done.

A list of ids is checked first: when one is neither a conversation nor an erased one, nothing is erased and
the error names it (a typo in a request should not leave half of it done). Each conversation is then erased
in a transaction of its own. An id erased before is reported as ``already_erased``, and its rows are looked
for in the training sets again, so running an erasure twice is harmless and finishes one that was cut short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.conversations.events import RedisBus, announce_erased
from bot.services.database import transcript_store
from bot.services.erasure_files import FilesScrubbed, scrub_files
from bot.settings import Settings
from bot.store.erasure import ErasureRecord, erase_conversation, erasure_of, existing
from bot.store.transcripts import TranscriptStore

ERASED, ALREADY_ERASED = "erased", "already_erased"


class UnknownConversations(LookupError):
    """Ids that are neither conversations nor erased ones; nothing was erased."""

    def __init__(self, conversation_ids: list[str]) -> None:
        super().__init__(f"no such conversation: {', '.join(conversation_ids)} (nothing was erased)")
        self.conversation_ids = conversation_ids


@dataclass(frozen=True)
class ErasureOutcome:
    """One id of a request: erased now, or found erased before (with that erasure's record)."""

    status: str  # ERASED | ALREADY_ERASED
    record: ErasureRecord

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, **self.record.to_dict()}


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure request did, id by id, and what left the files made from transcripts."""

    conversations: list[ErasureOutcome]
    files: FilesScrubbed

    @property
    def erased_now(self) -> list[str]:
        return [o.record.conversation_id for o in self.conversations if o.status == ERASED]

    def to_dict(self) -> dict[str, Any]:
        return {"conversations": [o.to_dict() for o in self.conversations], "files": self.files.to_dict()}


def erase_conversations(settings: Settings, conversation_ids: Iterable[str], erased_by: str,
                        store: TranscriptStore | None = None) -> ErasureReport:
    """Erase every conversation of ``conversation_ids`` (see the module docstring); ``erased_by`` is who asked:
    an admin's name, "cli" or "retention". Raises ``UnknownConversations`` before erasing anything."""
    if store is None:
        with transcript_store(settings) as own:
            return erase_conversations(settings, conversation_ids, erased_by, own)
    ids = list(dict.fromkeys(conversation_ids))
    present = existing(store, ids)
    unknown = [cid for cid in ids if cid not in present and erasure_of(store, cid) is None]
    if unknown:
        raise UnknownConversations(unknown)
    outcomes: list[ErasureOutcome] = []
    texts: list[str] = []
    for conversation_id in ids:
        removed = store.write(partial(erase_conversation, conversation_id=conversation_id, erased_by=erased_by))
        if removed is not None:
            outcomes.append(ErasureOutcome(ERASED, removed.record))
            texts += removed.customer_texts
            continue
        before = erasure_of(store, conversation_id)  # erased before, or a moment ago by another replica
        if before is None:
            raise UnknownConversations([conversation_id])  # deleted meanwhile without a record: cannot happen
        outcomes.append(ErasureOutcome(ALREADY_ERASED, before))
    files = scrub_files(settings, ids, texts)
    return ErasureReport(outcomes, files)


def announce_erasures(settings: Settings, conversation_ids: list[str]) -> bool:
    """From a command, outside any server: tell consoles and widgets on every replica through Redis, when it is
    configured (False when it is not: open sockets then learn it at their next message or reconnect)."""
    if not settings.redis_url or not conversation_ids:
        return False

    async def publish() -> None:
        bus = RedisBus(settings.redis_url or "")
        try:
            await announce_erased(bus, conversation_ids)
        finally:
            await bus.close()

    asyncio.run(publish())  # a command's own loop: commands run none
    return True
