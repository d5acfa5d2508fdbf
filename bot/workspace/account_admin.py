"""What admins do to accounts: disable and enable an agent, reset a password, end and list its sessions.

Disabling an agent, resetting its password and revoking its sessions delete its sessions (logins), so its
tokens stop working at once; ``announce_sessions_ended`` tells the servers, whose agent sockets then re-check
their tokens and close. Two refusals keep a workspace manageable: an admin cannot disable their own account,
and nobody, the command line included, can disable the last enabled admin (make another admin first). Every
change is logged: who did what to whom, never a password.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.conversations.events import EventBus, agent_session_channel
from bot.store.models import Agent, AgentSession, iso, utcnow
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import AgentInfo, account_row, check_new_password, hash_password

log = logging.getLogger(__name__)

COMMAND_LINE = "the command line"


class UnknownAgent(ValueError):
    """No account has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no agent named {name!r}")


class AdminLockout(ValueError):
    """The change would lock admins out: disabling your own account, or the last enabled admin."""


@dataclass(frozen=True)
class AccountChange:
    """The account after a change, and how many of its live sessions the change ended."""

    agent: dict[str, Any]
    revoked: int

    @property
    def agent_id(self) -> int:
        return int(self.agent["id"])

    def to_dict(self) -> dict[str, Any]:
        return {"agent": self.agent, "revoked": self.revoked}


def _find(session: Session, name: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.name == name))
    if agent is None:
        raise UnknownAgent(name)
    return agent


def _end_sessions(session: Session, agent_id: int) -> int:
    """Delete every session of the agent (expired ones too); how many were still live."""
    live = session.scalar(
        select(func.count()).where(AgentSession.agent_id == agent_id, AgentSession.expires_at > utcnow())
    ) or 0
    session.execute(delete(AgentSession).where(AgentSession.agent_id == agent_id))
    return live


class AccountAdmin:
    """Account changes made by ``actor`` (an admin), or by the command line on the server's machine (None)."""

    def __init__(self, store: TranscriptStore, actor: AgentInfo | None = None) -> None:
        self.store = store
        self.actor = actor

    @property
    def by(self) -> str:
        return COMMAND_LINE if self.actor is None else f"admin {self.actor.name!r}"

    def disable(self, name: str) -> AccountChange:
        """Disable the agent and end its sessions; AdminLockout for your own account or the last enabled admin."""
        with self.store.session() as session, session.begin():
            # Two admins disabling each other at once must not both succeed. PostgreSQL: the admins' rows are
            # locked first, in one order, so the second waits for the first and then sees its change. SQLite:
            # the update below takes the one write lock before the admins are counted.
            session.execute(select(Agent.id).where(Agent.role == "admin").order_by(Agent.id).with_for_update())
            agent = _find(session, name)
            if self.actor is not None and agent.id == self.actor.id:
                raise AdminLockout("you cannot disable your own account; ask another admin")
            was_enabled, agent.disabled = not agent.disabled, True
            session.flush()
            enabled_admins = session.scalar(
                select(func.count()).where(Agent.role == "admin", Agent.disabled.is_(False))
            )
            if agent.role == "admin" and was_enabled and not enabled_admins:  # raised in the transaction: undone
                raise AdminLockout(f"{name!r} is the last enabled admin; make another admin first")
            change = AccountChange(account_row(agent), _end_sessions(session, agent.id))
        self._log(f"disabled agent {name!r}", change)
        return change

    def enable(self, name: str) -> AccountChange:
        """Let a disabled agent log in again (its old sessions stay ended)."""
        with self.store.session() as session, session.begin():
            agent = _find(session, name)
            agent.disabled = False
            change = AccountChange(account_row(agent), 0)
        self._log(f"enabled agent {name!r}", change)
        return change

    def reset_password(self, name: str, password: str) -> AccountChange:
        """Set a new password (the rules of a new account's) and end every session of the agent."""
        check_new_password(password)
        hashed = hash_password(password)  # slow on purpose: outside the transaction
        with self.store.session() as session, session.begin():
            agent = _find(session, name)
            agent.password_hash = hashed
            change = AccountChange(account_row(agent), _end_sessions(session, agent.id))
        self._log(f"reset the password of agent {name!r}", change)
        return change

    def revoke_sessions(self, name: str) -> AccountChange:
        """End every session of the agent: each of its tokens and cookies stops working."""
        with self.store.session() as session, session.begin():
            agent = _find(session, name)
            change = AccountChange(account_row(agent), _end_sessions(session, agent.id))
        self._log(f"revoked the sessions of agent {name!r}", change)
        return change

    def sessions(self, name: str) -> list[dict[str, Any]]:
        """The agent's live sessions, oldest first: when each began and expires (never a token or its hash)."""
        with self.store.session() as session:
            agent = _find(session, name)
            rows = session.execute(
                select(AgentSession.created_at, AgentSession.expires_at)
                .where(AgentSession.agent_id == agent.id, AgentSession.expires_at > utcnow())
                .order_by(AgentSession.created_at)
            ).all()
        return [{"created_at": iso(created), "expires_at": iso(expires)} for created, expires in rows]

    def _log(self, what: str, change: AccountChange) -> None:
        # a warning, so that it shows at a server's default log level, as failed logins do: an audit looks for it
        ended = f"; {change.revoked} session{'' if change.revoked == 1 else 's'} ended" if change.revoked else ""
        log.warning("account change: %s %s%s", self.by, what, ended)


SESSION_ENDED = "session.ended"


async def announce_sessions_ended(bus: EventBus, agent_id: int, reason: str) -> None:
    """Tell every agent socket of this agent (on every replica, with Redis) to re-check its session now.

    A bus that is down only delays the close: each socket also re-checks every ``HELPLINE_SESSION_CHECK_SECONDS``.
    """
    try:
        await bus.publish(agent_session_channel(agent_id), {"type": SESSION_ENDED, "reason": reason})
    except Exception as exc:
        log.warning("could not announce the end of agent %s's sessions: %s", agent_id, exc)
