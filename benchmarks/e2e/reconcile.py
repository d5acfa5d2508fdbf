"""After a load: compare what the client sent and saw with what the server's database holds.

Read-only (SQLite opened with ``mode=ro``): customer rows are found by the client id each message carried, bot rows
by ``in_reply_to``. Every message is accounted for: stored and answered, handed to a person, or in one of the
problem lists, whose sizes and first ids the report shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, select

from benchmarks.e2e.load import Sent
from bot.store.models import Message

SHOWN = 5  # ids shown per problem


def read_only_engine(database: Path) -> Engine:
    return create_engine(f"sqlite:///file:{database}?mode=ro&uri=true")


def stored(database: Path, prefix: str) -> tuple[dict[str, int], set[str]]:
    """(client id -> customer message id) of the messages whose client id starts with ``prefix``, and the
    client ids of those that have a stored bot reply."""
    engine = read_only_engine(database)
    try:
        with engine.connect() as conn:
            customers = {str(cid): mid for mid, cid in conn.execute(
                select(Message.id, Message.client_id)
                .where(Message.role == "customer", Message.client_id.like(f"{prefix}%")))}
            asked = select(Message.id).where(Message.role == "customer", Message.client_id.like(f"{prefix}%"))
            replied = set(conn.scalars(
                select(Message.in_reply_to).where(Message.role == "bot", Message.in_reply_to.in_(asked))))
    finally:
        engine.dispose()
    by_id = {mid: cid for cid, mid in customers.items()}
    return customers, {by_id[mid] for mid in replied if mid in by_id}


def reconcile(messages: Iterable[Sent], database: Path, prefix: str) -> dict[str, Any]:
    """Counts and first ids of every message not both answered on the wire and stored with its reply."""
    messages = list(messages)
    customers, replied = stored(database, prefix)
    sent = [m for m in messages if m.sent is not None]
    problems = {
        # the server never logged it: lost before the turn started (or the socket closed with it unread)
        "sent, not stored": [m.id for m in sent if m.id not in customers],
        # logged, but no bot row and no person taking over either
        "stored, no reply stored": [m.id for m in sent if m.id in customers and m.id not in replied
                                    and m.outcome != "handoff"],
        # the customer saw a reply the transcript does not hold
        "answered on the wire, reply not stored": [m.id for m in sent if m.outcome == "ok" and m.id not in replied],
        # stored with a reply, but the customer had given up (timeout) or the socket had closed by then
        "reply stored, not received in time": [m.id for m in sent if m.id in replied and m.outcome != "ok"],
        "never sent (no connection)": [m.id for m in messages if m.sent is None],
    }
    return {
        "sent": len(sent), "stored": sum(m.id in customers for m in sent),
        "replies_stored": sum(m.id in replied for m in sent),
        "handed_off": sum(m.outcome == "handoff" for m in sent),
        "problems": {name: {"count": len(ids), "first": ids[:SHOWN]} for name, ids in problems.items()},
    }
