"""Rasa channels' senders: the Helpline conversation each ``sender`` (REST) or ``session_id`` (socket.io) is.

A Rasa front-end names its conversation itself and keeps naming it, call after call and across restarts, so
the name is stored with the conversation it stands for. The first message of a new name opens the
conversation and records the name in one transaction; two first messages racing for one name end up in one
conversation (the unique key refuses the second record, whose conversation is rolled back with it). Erasing a
conversation deletes its name too: the next message under that name starts afresh.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.store.models import Base, Conversation, UTCDateTime, utcnow
from bot.store.tokens import hash_token, new_token
from bot.store.transcripts import TranscriptStore

MAX_SENDER_CHARS = 128
CHANNELS = ("rest", "socketio")


class ChannelSender(Base):
    """A name a Rasa channel's client gives its conversation, and the conversation it is."""

    __tablename__ = "channel_senders"
    __table_args__ = (UniqueConstraint("channel", "sender", name="uq_channel_senders_channel_sender"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))  # rest | socketio
    sender: Mapped[str] = mapped_column(String(MAX_SENDER_CHARS))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def conversation_of(store: TranscriptStore, channel: str, sender: str) -> str | None:
    """The conversation ``sender`` names on ``channel``, or None when it names none yet (blocking)."""
    with store.session() as session:
        return session.scalar(select(ChannelSender.conversation_id)
                              .where(ChannelSender.channel == channel, ChannelSender.sender == sender))


def open_for(store: TranscriptStore, channel: str, sender: str) -> tuple[str, bool]:
    """The conversation of ``sender``, opened now when it has none: (its id, whether it is new). The conversation's
    resume token is never shown: the sender's name is what finds it again (blocking)."""
    conversation_id = uuid.uuid4().hex

    def job(session: Session) -> str:
        session.add(Conversation(id=conversation_id, token_hash=hash_token(new_token(24))))
        session.flush()  # the conversation first: the name's foreign key points at it
        session.add(ChannelSender(channel=channel, sender=sender, conversation_id=conversation_id))
        session.flush()
        return conversation_id

    try:
        return store.write(job), True
    except IntegrityError:  # another request opened this sender's conversation a moment ago: that one
        existing = conversation_of(store, channel, sender)
        if existing is None:
            raise
        return existing, False
