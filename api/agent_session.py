"""An open agent socket keeps checking its login, and closes once the login is gone.

It checks at once when told that its agent's sessions ended (an admin disabled the agent, reset its password or
revoked its sessions through the API: an event on the bus, which crosses replicas with Redis), every
``HELPLINE_SESSION_CHECK_SECONDS`` (for changes the bus cannot carry: the command line runs in another process,
and without Redis a replica hears only its own events) and at the login's expiry. A socket whose login has
ended gets a ``session_ended`` error frame and close 4401, as one without a login does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio.to_thread
from fastapi import WebSocketDisconnect
from sqlalchemy.exc import SQLAlchemyError

from api.outbox import Outbox
from api.protocol import error_frame
from bot.conversations.events import SubscriberDropped
from bot.store.models import utcnow
from bot.workspace.accounts import Accounts, InvalidSession

log = logging.getLogger(__name__)

UNAUTHORIZED_CLOSE = 4401
AFTER_EXPIRY_S = 0.05  # wake just after the expiry, never a hair before it
RETRY_S = 1.0  # past the expiry and still live (the database could not be read): look again this soon


@dataclass
class SessionWatch:
    """One socket's login: its token, when it expires, and how often to look again."""

    accounts: Accounts
    token: str
    expires_at: datetime
    check_seconds: float

    def next_wait(self) -> float:
        """Seconds until the next check: the interval, or the expiry when that comes first."""
        remaining = (self.expires_at - utcnow()).total_seconds() + AFTER_EXPIRY_S
        return min(self.check_seconds, remaining if remaining > 0 else RETRY_S)

    async def live(self) -> bool:
        """Whether the login still holds (the database decides); its expiry is read again as well."""
        try:
            _, self.expires_at = await anyio.to_thread.run_sync(self.accounts.session_for_token, self.token)
        except InvalidSession:
            return False
        except SQLAlchemyError as exc:  # the database is unreachable for now: keep the socket, check again later
            log.warning("could not check an agent socket's session: %s", exc)
        return True


async def _wake_on_events(events: AsyncIterator[dict[str, Any]], wake: asyncio.Event) -> None:
    try:
        async for _ in events:
            wake.set()
    except SubscriberDropped as exc:  # the bus failed: the periodic checks carry on alone
        log.warning("agent session events lost (%s); its login is now re-checked periodically only", exc)


async def until_session_ends(watch: SessionWatch, events: AsyncIterator[dict[str, Any]]) -> None:
    """Return once the login has ended: checked on each event of ``events``, periodically and at its expiry."""
    wake = asyncio.Event()
    listening = asyncio.create_task(_wake_on_events(events, wake))
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), watch.next_wait())
            wake.clear()
            if not await watch.live():
                return
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening


async def close_when_session_ends(watch: SessionWatch, events: AsyncIterator[dict[str, Any]], outbox: Outbox) -> None:
    """Tell the agent the login has ended, and close its socket (4401), once it has."""
    await until_session_ends(watch, events)
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # the socket may be closing already
        await outbox.send(error_frame("session_ended", "your session has ended: log in again"))
        await outbox.websocket.close(code=UNAUTHORIZED_CLOSE)
