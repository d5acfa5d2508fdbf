"""The server process: uvicorn, but the first SIGTERM (or Ctrl-C) drains the customers' sockets before it stops.

A rolling update or a scale-down sends SIGTERM. uvicorn alone would cut replies mid-stream and drop the
messages still queued on each socket. Here the first signal starts a drain instead: ``/health`` answers 503
so the proxy sends new visitors elsewhere, each customer socket finishes the replies it owes, tells its
widget to reconnect (``{"type": "reconnect"}`` and close 1012, service restart) and closes; then, or when
``HELPLINE_SHUTDOWN_GRACE_SECONDS`` have passed, uvicorn stops as usual and every write is flushed. A second
signal stops at once.
"""

from __future__ import annotations

import asyncio
from types import FrameType

import uvicorn

from bot.runtime import Runtime


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose first exit signal drains ``runtime``'s customer sockets for up to ``grace`` s."""

    def __init__(self, config: uvicorn.Config, runtime: Runtime, grace: float) -> None:
        super().__init__(config)
        self.runtime, self.grace = runtime, grace
        self._asked = False
        self._drain: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._asked or self.should_exit:  # a second signal: stop now
            super().handle_exit(sig, frame)
            return
        self._asked = True
        self._captured_signals.append(sig)  # raised again once stopped, as uvicorn does

    async def on_tick(self, counter: int) -> bool:
        if self._asked and self._drain is None:
            self._drain = asyncio.create_task(self.runtime.drain(self.grace))
        if self._drain is not None and self._drain.done():
            return True
        return await super().on_tick(counter)
