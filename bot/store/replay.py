"""Journaled writes applied to the database in order, each once: its key is stored in the same transaction."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.store import writes
from bot.store.journal import Entry, Journal
from bot.store.models import Conversation, JournalApplied, Message

if TYPE_CHECKING:
    from bot.store.transcripts import BotReplyRecord


def flush(journal: Journal, write: Callable[[Callable[[Session], None]], None],
          outages: tuple[type[Exception], ...]) -> list[str]:
    """Apply what waits in ``journal``, oldest first, until it is empty or the database fails again (one of
    ``outages``); the conversations written to. An entry refused for another reason is set aside."""
    written: list[str] = []
    while journal.waiting:
        entries = journal.oldest()
        if not entries:
            break
        for entry in entries:
            try:
                write(functools.partial(apply, entry=entry))
            except outages:
                return written
            except Exception as exc:  # the database refuses it for good: set aside, never blocking the rest
                journal.refused(entry, exc)
                continue
            journal.applied(entry)
            written.append(entry.conversation_id)
    return written


def apply(session: Session, entry: Entry) -> None:
    """Write ``entry`` unless its key says it was written already (a replay after a crash)."""
    if session.get(JournalApplied, entry.key) is not None:
        return
    payload, conversation = entry.payload, entry.conversation_id
    if entry.kind == "conversation":
        if session.get(Conversation, conversation) is None:
            session.add(Conversation(id=conversation, token_hash=payload["token_hash"]))
            session.flush()
    elif entry.kind == "customer":
        writes.add_message(session, Message(conversation_id=conversation, role="customer", text=payload["text"],
                                            client_id=payload["client_id"]))
    elif entry.kind == "turn":
        writes.add_turn(session, conversation, payload["text"], payload["client_id"], _record(payload["decision"]),
                        [_record(reply) for reply in payload["replies"]], payload["then_state"], payload["reopen"],
                        payload["rasa_events"])
    elif entry.kind == "feedback":
        writes.rate_reply(session, conversation, payload["reply_id"], payload["rating"])
    else:
        raise ValueError(f"unknown journal entry kind {entry.kind!r}")
    session.add(JournalApplied(key=entry.key))


def _record(data: dict[str, object]) -> BotReplyRecord:
    from bot.store.transcripts import BotReplyRecord

    return BotReplyRecord(**data)  # type: ignore[arg-type]
