"""What a route needs, as dependency aliases, so a handler's signature says what it touches."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, status
from starlette.requests import HTTPConnection

from bot.runtime import Runtime
from bot.settings import Settings
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts, AgentInfo, InvalidSession


def get_runtime(connection: HTTPConnection) -> Runtime:
    runtime: Runtime = connection.app.state.runtime
    return runtime


def get_settings(connection: HTTPConnection) -> Settings:
    return get_runtime(connection).settings


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


# agents ---------------------------------------------------------------------------------------

SESSION_COOKIE = "helpline_session"


def get_store(runtime: RuntimeDep) -> TranscriptStore:
    if runtime.store is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, runtime.error or "the server is starting")
    return runtime.store


StoreDep = Annotated[TranscriptStore, Depends(get_store)]


def get_accounts(store: StoreDep, settings: SettingsDep) -> Accounts:
    return Accounts(store, settings.session_hours)


AccountsDep = Annotated[Accounts, Depends(get_accounts)]


def session_token(connection: HTTPConnection) -> str | None:
    """The agent's token: ``Authorization: Bearer``, else the console's cookie, else (sockets only) ``?token=``."""
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if connection.cookies.get(SESSION_COOKIE):
        return connection.cookies[SESSION_COOKIE]
    if connection.scope["type"] == "websocket":
        return connection.query_params.get("token") or None
    return None


def authenticate(connection: HTTPConnection, accounts: Accounts) -> AgentInfo | None:
    """The agent behind this request or socket, or None (blocking: call it from a worker thread)."""
    token = session_token(connection)
    if token is None:
        return None
    try:
        return accounts.agent_for_token(token)
    except InvalidSession:
        return None


def current_agent(connection: HTTPConnection, accounts: AccountsDep) -> AgentInfo:
    """The logged-in agent; 401 otherwise. A plain ``def``, so FastAPI runs the lookup in its thread pool."""
    agent = authenticate(connection, accounts)
    if agent is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "log in as an agent", headers={"WWW-Authenticate": "Bearer"}
        )
    return agent


CurrentAgent = Annotated[AgentInfo, Depends(current_agent)]


def admin_agent(agent: CurrentAgent) -> AgentInfo:
    if not agent.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only")
    return agent


AdminAgent = Annotated[AgentInfo, Depends(admin_agent)]
