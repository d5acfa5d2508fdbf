"""Live human handoff as a server-enforced state machine, announced to customers and agents as it happens.

bot → waiting (the customer asked, or two fallbacks in a row) → agent (first accept wins) → bot or closed.
While a conversation is waiting or with an agent, the bot stays silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import anyio.to_thread
from sqlalchemy import select

from bot.conversations.events import AGENTS, EventBus, customer_channel
from bot.store.models import Agent, Message, iso
from bot.store.transcripts import TranscriptStore, UnknownConversation
from bot.workspace.presentation import FaqQuestion, conversation_summary, message_views

__all__ = [
    "AgentLike", "AlreadyClaimed", "HandoffService", "InvalidTransition", "NotYourConversation",
    "TurnLogged", "UnknownConversation",
]


class AgentLike(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def display_name(self) -> str: ...

    @property
    def role(self) -> str: ...


class AlreadyClaimed(ValueError):
    """Another agent accepted the conversation first."""


class NotYourConversation(PermissionError):
    """The conversation is held by another agent."""


class InvalidTransition(ValueError):
    """The conversation's state does not allow this step."""


@dataclass(frozen=True)
class TurnLogged:
    """What one customer message left in the log, for announcing it live."""

    conversation_id: str
    message_ids: tuple[int, ...]
    handoff: str | None = None  # "asked" | "fallbacks" when this turn asked for a person


class HandoffService:
    """Moves conversations between bot, waiting, agent and closed, and tells everyone who must know."""

    def __init__(self, store: TranscriptStore, bus: EventBus, faq_question: FaqQuestion) -> None:
        self.store = store
        self.bus = bus
        self.faq_question = faq_question

    # announcements ---------------------------------------------------------------------------

    def _views(self, conversation_id: str, message_ids: tuple[int, ...]) -> tuple[list[Any], Any]:
        with self.store.session() as session:
            views = [v for mid in message_ids for v in message_views(session, self.faq_question, message_id=mid)]
            return views, conversation_summary(session, conversation_id)

    async def announce(self, turn: TurnLogged) -> None:
        """Tell agents about new messages and the conversation's new inbox row (and a handoff request).

        With no console open anywhere, there is nobody to tell: the views are not read at all (they were a
        fifth of a busy server's time). A console that opens later loads the inbox from the database."""
        if turn.handoff:  # first: it needs no database, and the customer's widget must know
            await self._tell_customer_state(turn.conversation_id, "waiting", None)
        if await self.bus.listened(AGENTS):
            await self._tell_agents(turn)

    async def refresh(self, conversation_id: str) -> None:
        """Tell agents a conversation's inbox row changed behind their back (its journaled turns were written)."""
        if await self.bus.listened(AGENTS):
            await self._tell_agents(TurnLogged(conversation_id, ()))

    async def _tell_agents(self, turn: TurnLogged) -> None:
        views, summary = await anyio.to_thread.run_sync(self._views, turn.conversation_id, turn.message_ids)
        if summary is None:  # erased since the turn was logged: the consoles were told, there is no row to show
            return
        for message in views:
            await self.bus.publish(
                AGENTS, {"type": "message", "conversation_id": turn.conversation_id, "message": message}
            )
        await self.bus.publish(AGENTS, {"type": "conversation.updated", "conversation": summary})
        if turn.handoff:
            await self.bus.publish(
                AGENTS, {"type": "handoff.requested", "conversation": summary, "reason": turn.handoff}
            )

    async def _tell_customer_state(self, conversation_id: str, state: str, agent: str | None) -> None:
        await self.bus.publish(customer_channel(conversation_id), {"type": "state", "state": state, "agent": agent})

    # transitions -----------------------------------------------------------------------------

    async def accept(self, conversation_id: str, agent: AgentLike) -> dict[str, Any]:
        """Claim the conversation for ``agent``; the first accept wins, a repeated one is harmless."""
        won = await anyio.to_thread.run_sync(
            self.store.transition, conversation_id, ("bot", "waiting"), "agent", agent.id
        )
        if not won:
            holder = await anyio.to_thread.run_sync(self.store.conversation_state, conversation_id)
            if holder.state == "agent" and holder.agent_id == agent.id:
                return await self._summary(conversation_id)
            if holder.state == "agent":
                raise AlreadyClaimed(f"already claimed by {holder.agent_name}")
            raise InvalidTransition(f"the conversation is {holder.state}")
        return await self._changed(conversation_id, "agent", agent.display_name, f"{agent.display_name} joined")

    async def hand_back(self, conversation_id: str, agent: AgentLike) -> dict[str, Any]:
        """Give the conversation back to the bot (its agent, or an admin)."""
        await self._check_holder(conversation_id, agent, admin_may=True)
        if not await anyio.to_thread.run_sync(self.store.transition, conversation_id, ("agent",), "bot", None):
            raise InvalidTransition("the conversation changed meanwhile")
        return await self._changed(conversation_id, "bot", None, "You're back with the bot")

    async def close(self, conversation_id: str, agent: AgentLike) -> dict[str, Any]:
        holder = await anyio.to_thread.run_sync(self.store.conversation_state, conversation_id)
        if holder.state == "closed":
            raise InvalidTransition("the conversation is already closed")
        if holder.state == "agent" and holder.agent_id != agent.id and agent.role != "admin":
            raise NotYourConversation(f"{holder.agent_name} holds this conversation")
        won = await anyio.to_thread.run_sync(
            self.store.transition, conversation_id, ("bot", "waiting", "agent"), "closed", None
        )
        if not won:
            raise InvalidTransition("the conversation changed meanwhile")
        return await self._changed(conversation_id, "closed", None, f"Conversation closed by {agent.display_name}")

    async def send_agent_message(self, conversation_id: str, agent: AgentLike, text: str) -> dict[str, Any]:
        """Store the agent's message and deliver it to the customer's open sockets."""
        await self._check_holder(conversation_id, agent, admin_may=False)
        message_id = await anyio.to_thread.run_sync(
            self.store.log_message, conversation_id, "agent", text, agent.id
        )
        views, _ = await anyio.to_thread.run_sync(self._views, conversation_id, (message_id,))
        message = views[0]
        await self.bus.publish(customer_channel(conversation_id), {
            "type": "agent.message", "message_id": message_id, "text": text,
            "agent": agent.display_name, "created_at": message["created_at"],
        })
        await self.announce(TurnLogged(conversation_id, (message_id,)))
        return dict(message)

    async def agent_typing(self, conversation_id: str, agent: AgentLike, active: bool) -> None:
        holder = await anyio.to_thread.run_sync(self.store.conversation_state, conversation_id)
        if holder.state == "agent" and holder.agent_id == agent.id:
            await self.bus.publish(customer_channel(conversation_id), {
                "type": "typing", "role": "agent", "agent": agent.display_name, "active": active,
            })

    async def customer_typing(self, conversation_id: str, active: bool) -> None:
        await self.bus.publish(
            AGENTS, {"type": "typing", "conversation_id": conversation_id, "role": "customer", "active": active}
        )

    def missed(self, conversation_id: str, after_id: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """What a customer's socket would have heard live since message ``after_id``, read from the database (for
        when live events cannot cross servers): the agents' messages as ``agent.message`` frames, and the
        conversation's ``state`` frame (blocking: call it from a worker thread)."""
        with self.store.session() as session:
            rows = session.execute(
                select(Message.id, Message.text, Message.created_at, Agent.display_name)
                .join(Agent, Agent.id == Message.agent_id)
                .where(Message.conversation_id == conversation_id, Message.role == "agent", Message.id > after_id)
                .order_by(Message.id)
            ).all()
        holder = self.store.conversation_state(conversation_id)
        frames = [{"type": "agent.message", "message_id": row.id, "text": row.text, "agent": row.display_name,
                   "created_at": iso(row.created_at)} for row in rows]
        return frames, {"type": "state", "state": holder.state, "agent": holder.agent_name}

    # helpers ---------------------------------------------------------------------------------

    async def _check_holder(self, conversation_id: str, agent: AgentLike, admin_may: bool) -> None:
        holder = await anyio.to_thread.run_sync(self.store.conversation_state, conversation_id)
        if holder.state != "agent":
            raise InvalidTransition(f"the conversation is {holder.state}, not with an agent")
        if holder.agent_id != agent.id and not (admin_may and agent.role == "admin"):
            raise NotYourConversation(f"{holder.agent_name} holds this conversation")

    async def _summary(self, conversation_id: str) -> dict[str, Any]:
        _, summary = await anyio.to_thread.run_sync(self._views, conversation_id, ())
        if summary is None:
            raise UnknownConversation(conversation_id)
        return dict(summary)

    async def _changed(self, conversation_id: str, state: str, agent: str | None, notice: str) -> dict[str, Any]:
        """Log the notice, tell the customer the new state and the agents the new row."""
        message_id = await anyio.to_thread.run_sync(self.store.log_message, conversation_id, "system", notice)
        await self._tell_customer_state(conversation_id, state, agent)
        await self.announce(TurnLogged(conversation_id, (message_id,)))
        return await self._summary(conversation_id)
