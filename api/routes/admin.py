"""Admin-only endpoints: agent accounts and their sessions, and erasing customers' conversations (the router
requires an admin).

A change that ends sessions is announced on the event bus, so the agent's open sockets close at once, on every
replica when Redis carries the bus; so is an erasure, so that open widgets and consoles drop the conversation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path, Query, status

from api.deps import ADMINS_ONLY, AccountsDep, AdminAgent, RuntimeDep, StoreDep
from api.schemas.admin import AccountChangeOut, AgentAccountOut, AgentIn, AgentSessionOut, PasswordIn
from api.schemas.auth import AgentOut
from api.schemas.base import problem
from api.schemas.erasures import ErasureOut, ErasureReportOut, ErasuresIn
from bot.conversations.events import announce_erased
from bot.runtime import Runtime
from bot.services import erasure
from bot.store.erasure import erasures
from bot.workspace.account_admin import AccountAdmin, AccountChange, announce_sessions_ended

router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=ADMINS_ONLY)

AgentName = Annotated[str, Path(description="The agent's login name.")]
NO_AGENT: dict[int | str, dict[str, Any]] = {404: problem("No agent has this name")}
LOCKOUT: dict[int | str, dict[str, Any]] = {
    409: problem("Your own account, or the last enabled admin: it cannot be disabled"),
}


@router.get("/agents", response_model=list[AgentAccountOut])
def list_agents(accounts: AccountsDep) -> list[dict[str, Any]]:
    """Every agent account (never a password hash)."""
    return accounts.list_agents()


@router.post("/agents", status_code=status.HTTP_201_CREATED, response_model=AgentOut,
             responses={409: problem("Name taken")})
def create_agent(body: AgentIn, accounts: AccountsDep) -> dict[str, Any]:
    """Create an agent or admin account."""
    return accounts.add_agent(body.name, body.password, body.role, body.display_name).to_dict()


async def _change(runtime: Runtime, change: Callable[[], AccountChange], reason: str | None) -> dict[str, Any]:
    """Make the change (a database write, in a worker thread); announce ended sessions to the agent's sockets."""
    done = await anyio.to_thread.run_sync(change)
    if reason is not None:
        await announce_sessions_ended(runtime.bus, done.agent_id, reason)
    return done.to_dict()


@router.post("/agents/{name}/disable", response_model=AccountChangeOut, responses={**NO_AGENT, **LOCKOUT})
async def disable_agent(name: AgentName, admin: AdminAgent, store: StoreDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Disable an account: it cannot log in, its sessions end and its open sockets close."""
    return await _change(runtime, lambda: AccountAdmin(store, admin).disable(name), "disabled")


@router.post("/agents/{name}/enable", response_model=AccountChangeOut, responses=NO_AGENT)
async def enable_agent(name: AgentName, admin: AdminAgent, store: StoreDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Let a disabled account log in again."""
    return await _change(runtime, lambda: AccountAdmin(store, admin).enable(name), None)


@router.put("/agents/{name}/password", response_model=AccountChangeOut, responses=NO_AGENT)
async def reset_password(name: AgentName, body: PasswordIn, admin: AdminAgent, store: StoreDep,
                         runtime: RuntimeDep) -> dict[str, Any]:
    """Set a new password; every session of the account ends (yours too, when it is your own)."""
    return await _change(runtime, lambda: AccountAdmin(store, admin).reset_password(name, body.password),
                         "password_reset")


@router.get("/agents/{name}/sessions", response_model=list[AgentSessionOut], responses=NO_AGENT)
def list_sessions(name: AgentName, admin: AdminAgent, store: StoreDep) -> list[dict[str, Any]]:
    """The account's live sessions, oldest first."""
    return AccountAdmin(store, admin).sessions(name)


@router.delete("/agents/{name}/sessions", response_model=AccountChangeOut, responses=NO_AGENT)
async def revoke_sessions(name: AgentName, admin: AdminAgent, store: StoreDep, runtime: RuntimeDep) -> dict[str, Any]:
    """End every session of the account: its tokens stop working and its open sockets close."""
    return await _change(runtime, lambda: AccountAdmin(store, admin).revoke_sessions(name), "revoked")


@router.post("/erasures", response_model=ErasureReportOut,
             responses={404: problem("An id is no conversation, erased or not; nothing was erased")})
async def erase_conversations(body: ErasuresIn, admin: AdminAgent, runtime: RuntimeDep,
                              store: StoreDep) -> dict[str, Any]:
    """Erase conversations with everything hanging off them and their training-set rows; open widgets and
    consoles are told at once. An id erased before answers ``already_erased``."""
    report = await anyio.to_thread.run_sync(partial(
        erasure.erase_conversations, runtime.settings, body.conversation_ids, f"admin:{admin.name}", store))
    await announce_erased(runtime.bus, report.erased_now)
    return report.to_dict()


@router.get("/erasures", response_model=list[ErasureOut])
def list_erasures(store: StoreDep,
                  limit: Annotated[int, Query(ge=1, le=1000, description="most records, newest first")] = 100,
                  ) -> list[dict[str, Any]]:
    """The audit record of erased conversations, newest first: who, when and how many rows; never content."""
    return [record.to_dict() for record in erasures(store, limit)]
