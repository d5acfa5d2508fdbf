"""Agent accounts: scrypt password hashes, login sessions (bearer token or cookie), login throttling."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import math
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from bot.store.models import Agent, AgentSession, LoginAttempt, as_utc, iso, utcnow
from bot.store.tokens import hash_token, new_token
from bot.store.transcripts import TranscriptStore

log = logging.getLogger(__name__)

ROLES = ("agent", "admin")
MIN_PASSWORD_CHARS = 8
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.@+-]{1,64}")
# scrypt cost: 16 MiB and ~50 ms per hash, slow enough to make guessing a stolen hash expensive
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
# Throttling, in three scopes (OWASP's "combine user and address"). Guessing one account from one address is
# slowed after MAX_FAILURES; one account guessed from many addresses, or many accounts from one address
# (spraying), after WIDE_FAILURES. The wide scopes spare an address the account has logged in from before
# (within KNOWN_FOR): neither a stranger guessing an agent's name nor a scanner on the agent's own network
# (a fuzzing run, a shared office address) can lock the right password out of its usual place.
MAX_FAILURES = 5
WIDE_FAILURES = 20
FAILURE_WINDOW = timedelta(minutes=15)
FIRST_DELAY_S = 30  # then doubled with every further failure, up to the window
KNOWN_FOR = timedelta(days=30)
REMOTE_CHARS = 64


class InvalidCredentials(Exception):
    """Unknown name, wrong password or disabled account (deliberately not told apart)."""


class LoginThrottled(Exception):
    """Too many failed logins for this name or address: wait ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after} s")
        self.retry_after = retry_after


class InvalidSession(Exception):
    """The token is unknown, expired, or belongs to a disabled agent."""


class AgentExists(ValueError):
    """An agent with this name already exists."""


class WeakPassword(ValueError):
    """The password is shorter than ``MIN_PASSWORD_CHARS``."""


@dataclass(frozen=True)
class AgentInfo:
    """Who an authenticated request acts as."""

    id: int
    name: str
    display_name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _info(agent: Agent) -> AgentInfo:
    return AgentInfo(agent.id, agent.name, agent.display_name, agent.role)


def account_row(agent: Agent) -> dict[str, Any]:
    """An account as admins see it (never its password hash)."""
    return {**_info(agent).to_dict(), "disabled": agent.disabled, "created_at": iso(agent.created_at)}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$<salt b64>$<hash b64>`` with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison; malformed hashes never match)."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(expected)
        got = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            dklen=len(want), maxmem=256 * 1024 * 1024,
        )
    except ValueError:
        return False
    return hmac.compare_digest(got, want)


@functools.cache
def _dummy_hash() -> str:
    """Checked when the name is unknown, so that a wrong name costs as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"the password must be at least {MIN_PASSWORD_CHARS} characters")


def retry_delay(failures: int, limit: int = MAX_FAILURES) -> int:
    """Seconds to wait after ``failures`` failed logins (0 below ``limit``, then doubling up to the window)."""
    if failures < limit:
        return 0
    return int(min(FIRST_DELAY_S * 2 ** (failures - limit), FAILURE_WINDOW.total_seconds()))


class Accounts:
    """Agents, their sessions and login attempts, in the transcript database; every write one transaction."""

    def __init__(self, store: TranscriptStore, session_hours: float = 12) -> None:
        self.store = store
        self.session_lifetime = timedelta(hours=session_hours)

    # agents --------------------------------------------------------------------------------

    def add_agent(self, name: str, password: str, role: str = "agent", display_name: str | None = None) -> AgentInfo:
        """Create an agent; raises ``AgentExists``, ``WeakPassword`` or ``ValueError`` for a bad name or role."""
        if not NAME_PATTERN.fullmatch(name):
            raise ValueError("the name must be 1-64 letters, digits or . _ @ + -")
        if role not in ROLES:
            raise ValueError(f"the role must be one of {', '.join(ROLES)}")
        display = (display_name or name).strip()
        if not display or len(display) > 128:
            raise ValueError("the display name must be 1-128 characters")
        check_new_password(password)
        agent = Agent(name=name, display_name=display, role=role, password_hash=hash_password(password))
        try:
            with self.store.session() as session, session.begin():
                session.add(agent)
        except IntegrityError as exc:
            raise AgentExists(f"an agent named {name!r} already exists") from exc
        return _info(agent)

    def list_agents(self) -> list[dict[str, Any]]:
        with self.store.session() as session:
            agents = session.scalars(select(Agent).order_by(Agent.name)).all()
        return [account_row(a) for a in agents]

    # logins --------------------------------------------------------------------------------

    def login(self, name: str, password: str, remote: str | None = None) -> tuple[str, AgentInfo]:
        """A new session token for the agent; every attempt is stored and logged.

        Raises ``LoginThrottled`` after too many recent failures (see ``throttle``; the password is then not
        checked), else ``InvalidCredentials`` when the name or password is wrong.
        """
        name, remote = name[:64], (remote or None) and remote[:REMOTE_CHARS]
        wait = self.throttle(name, remote)
        agent = None if wait else self._check_password(name, password)
        token = new_token(32)
        with self.store.session() as session, session.begin():
            session.add(LoginAttempt(name=name, remote=remote, ok=agent is not None))
            if agent is not None:
                session.execute(delete(AgentSession).where(AgentSession.expires_at < utcnow()))
                session.add(AgentSession(
                    token_hash=hash_token(token), agent_id=agent.id, expires_at=utcnow() + self.session_lifetime
                ))
        if agent is None:
            log.warning("failed agent login for %r from %s%s", name, remote, " (throttled)" if wait else "")
            if wait:
                raise LoginThrottled(wait)
            raise InvalidCredentials(name)
        log.info("agent %r logged in from %s", name, remote)
        return token, agent

    def _check_password(self, name: str, password: str) -> AgentInfo | None:
        with self.store.session() as session:
            agent = session.scalar(select(Agent).where(Agent.name == name))
        if agent is None:
            verify_password(password, _dummy_hash())
            return None
        if not verify_password(password, agent.password_hash) or agent.disabled:
            return None
        return _info(agent)

    def throttle(self, name: str, remote: str | None) -> int:
        """Seconds this name, from this address, must still wait before trying again (0: go ahead).

        The pair (name, address) is throttled after ``MAX_FAILURES``; the name from anywhere and the address
        for any name after ``WIDE_FAILURES``, unless the name logged in from this address within ``KNOWN_FOR``.
        """
        now = utcnow()
        if remote is None:
            return self._wait(LoginAttempt.name == name, now, MAX_FAILURES)
        pair = self._wait((LoginAttempt.name == name) & (LoginAttempt.remote == remote), now, MAX_FAILURES)
        if pair or self._known(name, remote, now):
            return pair
        # an address's own successes do not reset its count: one valid account must not license spraying others
        return max(self._wait(LoginAttempt.name == name, now, WIDE_FAILURES),
                   self._wait(LoginAttempt.remote == remote, now, WIDE_FAILURES, reset_on_success=False))

    def _known(self, name: str, remote: str, now: datetime) -> bool:
        """Whether ``name`` logged in from ``remote`` within ``KNOWN_FOR``."""
        with self.store.session() as session:
            return session.scalar(
                select(LoginAttempt.id).where(
                    LoginAttempt.name == name, LoginAttempt.remote == remote, LoginAttempt.ok.is_(True),
                    LoginAttempt.created_at >= now - KNOWN_FOR,
                ).limit(1)
            ) is not None

    def _wait(self, who: Any, now: datetime, limit: int, reset_on_success: bool = True) -> int:
        """Failures since the window opened (or since the last success), and the wait they impose."""
        with self.store.session() as session:
            last_ok = session.scalar(
                select(func.max(LoginAttempt.created_at)).where(
                    who, LoginAttempt.ok.is_(True), LoginAttempt.created_at >= now - FAILURE_WINDOW
                )
            ) if reset_on_success else None
            since = max(as_utc(last_ok), now - FAILURE_WINDOW) if last_ok else now - FAILURE_WINDOW
            failures, last_failure = session.execute(
                select(func.count(), func.max(LoginAttempt.created_at)).where(
                    who, LoginAttempt.ok.is_(False), LoginAttempt.created_at > since
                )
            ).one()
        delay = retry_delay(failures, limit)
        if not delay:
            return 0
        remaining = (as_utc(last_failure) + timedelta(seconds=delay) - now).total_seconds()
        return max(0, math.ceil(remaining))

    # sessions ------------------------------------------------------------------------------

    def agent_for_token(self, token: str) -> AgentInfo:
        """The agent a live session token belongs to; raises ``InvalidSession`` otherwise."""
        return self.session_for_token(token)[0]

    def session_for_token(self, token: str) -> tuple[AgentInfo, datetime]:
        """The agent of a live session token and when the session expires; raises ``InvalidSession`` otherwise."""
        if not token:
            raise InvalidSession("no token")
        with self.store.session() as session:
            row = session.execute(
                select(Agent, AgentSession.expires_at)
                .join(AgentSession, AgentSession.agent_id == Agent.id)
                .where(
                    AgentSession.token_hash == hash_token(token),
                    AgentSession.expires_at > utcnow(),
                    Agent.disabled.is_(False),
                )
            ).first()
        if row is None:
            raise InvalidSession("unknown or expired session")
        return _info(row[0]), as_utc(row[1])

    def logout(self, token: str) -> None:
        with self.store.session() as session, session.begin():
            session.execute(delete(AgentSession).where(AgentSession.token_hash == hash_token(token)))

    def attempts(self, name: str) -> list[dict[str, Any]]:
        """The stored login attempts for a name, oldest first (the audit log)."""
        with self.store.session() as session:
            rows = session.scalars(
                select(LoginAttempt).where(LoginAttempt.name == name).order_by(LoginAttempt.id)
            ).all()
        return [{"name": a.name, "remote": a.remote, "ok": a.ok, "created_at": iso(a.created_at)} for a in rows]
