"""What both Rasa channels do before a turn: find the Helpline conversation a client's name stands for, opening
it (counted as a new conversation of the address, as a ``start`` frame on ``/ws`` is) when the name is new."""

from __future__ import annotations

from api.customer_session import TRY_LATER_CLOSE, Refused
from api.protocol import error_frame
from api.throttle import AddressLimits
from bot.store.senders import conversation_of, open_for
from bot.turn.engine import DialogueEngine


async def conversation_for(engine: DialogueEngine, limits: AddressLimits, address: str, channel: str,
                           sender: str) -> str:
    """The conversation ``sender`` names on ``channel``; ``Refused`` when it is new and ``address`` has started
    too many conversations this minute. A database outage raises as it is (the caller says to try again)."""
    found = await engine.in_thread(conversation_of, engine.store, channel, sender)
    if found is not None:
        return found
    wait = await limits.hit("conversation", address)
    if wait:
        raise Refused(error_frame("too_many_conversations", "too many new chats from your address; try again "
                                  "shortly", retry_after=wait), TRY_LATER_CLOSE)
    conversation, _ = await engine.in_thread(open_for, engine.store, channel, sender)
    return conversation
