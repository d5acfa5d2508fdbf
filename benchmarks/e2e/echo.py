"""The baseline: a bare ``websockets`` server speaking the customer protocol's shape with no work behind it.

    python -m benchmarks.e2e.echo --port 8765

A session frame once the client's first (``start``) frame arrives; each message answered with ``reply.start``,
one ``reply.delta`` and ``reply.end`` carrying the message's own text; ``ping`` gets ``pong``. Whatever Helpline
costs above this is its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from collections.abc import Sequence

from websockets.asyncio.server import ServerConnection, serve


async def answer(websocket: ServerConnection) -> None:
    await websocket.recv()  # the client's start frame
    await websocket.send(json.dumps({
        "type": "session", "conversation_id": uuid.uuid4().hex, "token": "echo", "resumed": False,
        "welcome": "echo", "max_message_chars": 2000, "state": "bot", "agent": None,
    }))
    async for raw in websocket:
        frame = json.loads(raw)
        if frame.get("type") == "ping":
            await websocket.send('{"type":"pong"}')
            continue
        if frame.get("type") != "message":
            continue
        reply_id, text = uuid.uuid4().hex, str(frame.get("text", ""))
        await websocket.send(json.dumps({"type": "reply.start", "reply_id": reply_id, "in_reply_to": frame.get("id"),
                                         "intent": "echo", "confidence": 1.0, "route": "faq"}))
        await websocket.send(json.dumps({"type": "reply.delta", "reply_id": reply_id, "text": text}))
        await websocket.send(json.dumps({"type": "reply.end", "reply_id": reply_id, "text": text, "faq_id": None,
                                         "score": None, "suggestions": []}))


async def main_async(host: str, port: int) -> None:
    # the same backlog uvicorn uses, so 500 connections opened in a burst are not refused here either
    async with serve(answer, host, port, backlog=2048) as server:
        await server.serve_forever()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.host, args.port))


if __name__ == "__main__":
    main()
