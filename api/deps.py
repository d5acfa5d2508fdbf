"""What a route needs, as dependency aliases, so a handler's signature says what it touches.

The aliases for the bot's parts carry the "503 until the bot is loaded" check: a handler that takes
``EngineDep`` never sees a bot that is not there.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, status
from fastapi.exceptions import RequestValidationError
from starlette.requests import HTTPConnection, Request

from api.origins import cross_site_write
from api.protocol import unstorable
from api.throttle import AddressLimits
from bot.conversations.handoff import HandoffService
from bot.runtime import Runtime
from bot.settings import Settings
from bot.store.transcripts import TranscriptStore
from bot.turn.engine import DialogueEngine
from bot.workspace.accounts import Accounts, AgentInfo, InvalidSession
from retrieval.store import FaqRetriever


def get_runtime(connection: HTTPConnection) -> Runtime:
    runtime: Runtime = connection.app.state.runtime
    return runtime


def get_settings(connection: HTTPConnection) -> Settings:
    return get_runtime(connection).settings


def get_address_limits(connection: HTTPConnection) -> AddressLimits:
    limits: AddressLimits = connection.app.state.address_limits
    return limits


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
AddressLimitsDep = Annotated[AddressLimits, Depends(get_address_limits)]


# the bot's parts: 503 until loaded (with the load error once loading failed) -------------------


def _unavailable(runtime: Runtime, starting: str) -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, runtime.error or starting)


def get_store(runtime: RuntimeDep) -> TranscriptStore:
    if runtime.store is None:
        raise _unavailable(runtime, "the server is starting")
    return runtime.store


def get_handoff(runtime: RuntimeDep) -> HandoffService:
    if runtime.handoff is None:
        raise _unavailable(runtime, "the server is starting")
    return runtime.handoff


def get_engine(runtime: RuntimeDep) -> DialogueEngine:
    if runtime.engine is None:
        raise _unavailable(runtime, "the bot is still loading")
    return runtime.engine


StoreDep = Annotated[TranscriptStore, Depends(get_store)]
HandoffDep = Annotated[HandoffService, Depends(get_handoff)]
EngineDep = Annotated[DialogueEngine, Depends(get_engine)]


def get_retriever(engine: EngineDep) -> FaqRetriever:
    """The FAQ the bot serves now (a reload swaps it: take it per request, never keep it)."""
    return engine.models.retriever


RetrieverDep = Annotated[FaqRetriever, Depends(get_retriever)]


# agents ---------------------------------------------------------------------------------------

SESSION_COOKIE = "helpline_session"


def get_accounts(store: StoreDep, settings: SettingsDep) -> Accounts:
    return Accounts(store, settings.session_hours)


AccountsDep = Annotated[Accounts, Depends(get_accounts)]


def bearer_token(connection: HTTPConnection) -> str | None:
    """The token of an ``Authorization: Bearer`` header."""
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def session_token(connection: HTTPConnection) -> str | None:
    """The agent's token: ``Authorization: Bearer``, else the console's cookie (never a URL, which logs keep)."""
    return bearer_token(connection) or connection.cookies.get(SESSION_COOKIE) or None


def refuse_cross_site(connection: HTTPConnection) -> None:
    """403 for a state change riding on the console's cookie from another site's page (CSRF): the cookie's
    SameSite=Strict does not cover a site on the same registrable domain, so ``Origin`` is checked too."""
    if bearer_token(connection) is None and connection.cookies.get(SESSION_COOKIE) and cross_site_write(connection):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site request refused: send it from the console's own "
                                                       "pages, or with an Authorization header")


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
    """The logged-in agent; 401 otherwise. A plain ``def``, so FastAPI runs the lookup in its thread pool.

    The agent routers require it for every route; a handler that needs the agent takes ``CurrentAgent``
    too, and FastAPI looks it up once per request.
    """
    agent = authenticate(connection, accounts)
    if agent is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "log in as an agent", headers={"WWW-Authenticate": "Bearer"}
        )
    refuse_cross_site(connection)
    return agent


CurrentAgent = Annotated[AgentInfo, Depends(current_agent)]


def admin_agent(agent: CurrentAgent) -> AgentInfo:
    if not agent.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admins only")
    return agent


AdminAgent = Annotated[AgentInfo, Depends(admin_agent)]


# text no database can take ---------------------------------------------------------------------


def _unstorable_in(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str) and unstorable(value):
        yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _unstorable_in(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_in(item, (*loc, index))


async def refuse_unstorable_text(request: Request) -> None:
    """422 for a NUL character or a lone surrogate in the path, the query or a JSON body: the workspace would
    store or look the text up, and the database would fail on it (a 500). The routers of the HTTP API take it."""
    found: list[tuple[str | int, ...]] = [("path", name) for name, value in request.path_params.items()
                                          if isinstance(value, str) and unstorable(value)]
    found += [("query", name) for name, value in request.query_params.multi_items() if unstorable(value)]
    body = await request.body()  # read (and kept) by FastAPI already
    if b"\\u" in body:  # in JSON, both can only come escaped
        with contextlib.suppress(ValueError):  # not JSON: FastAPI refuses it already
            found += _unstorable_in(json.loads(body), ("body",))
    if found:  # never echo the text: a lone surrogate cannot be written in a response either
        raise RequestValidationError([{"type": "string_unstorable", "loc": loc,
                                       "msg": "a NUL character or a lone surrogate cannot be stored"}
                                      for loc in found])


# what every route of the agent routers, and of the admin routers, requires
AGENTS_ONLY = [Depends(current_agent), Depends(refuse_unstorable_text)]
ADMINS_ONLY = [Depends(admin_agent), Depends(refuse_unstorable_text)]
