"""The named exceptions of the layers below, mapped to HTTP statuses in one table.

Handlers call the workspace, handoff and FAQ code and let its refusals propagate; the app's exception
handlers answer them as FastAPI answers an ``HTTPException`` (``{"detail": ...}`` and any headers). A new
refusal is one row here, not a ``try`` in every route. Sockets are left alone: they answer with error frames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, HTTPException, status
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from api.openapi import api_routes
from bot.conversations.handoff import AlreadyClaimed, InvalidTransition, NotYourConversation
from bot.learning.faq_proposals import ProposalDecided, UnknownProposal
from bot.services.erasure import UnknownConversations
from bot.services.faq import BlankGapEntry
from bot.store.transcripts import OUTAGES, UnknownConversation
from bot.workspace.account_admin import AdminLockout, UnknownAgent
from bot.workspace.accounts import AgentExists, InvalidCredentials, LoginThrottled, WeakPassword
from bot.workspace.inbox import InvalidCursor, InvalidFilter
from bot.workspace.review import InvalidLabel, UnknownMessage, WrongMessageRole
from retrieval.store import FaqEntryExists


@dataclass(frozen=True)
class Refusal:
    """How one named exception is answered: a status, the ``detail`` (the message unless told), headers."""

    status: int
    detail: Callable[[Exception], str] = str
    headers: Callable[[Exception], dict[str, str]] | None = None

    def http(self, exc: Exception) -> HTTPException:
        return HTTPException(self.status, self.detail(exc), self.headers(exc) if self.headers else None)


def _retry_after(exc: Exception) -> dict[str, str]:
    assert isinstance(exc, LoginThrottled)
    return {"Retry-After": str(exc.retry_after)}


REFUSALS: dict[type[Exception], Refusal] = {
    UnknownConversation: Refusal(status.HTTP_404_NOT_FOUND, lambda _: "no such conversation"),
    UnknownMessage: Refusal(status.HTTP_404_NOT_FOUND, lambda exc: f"no message {exc}"),  # the message id
    UnknownConversations: Refusal(status.HTTP_404_NOT_FOUND),  # names them, and says nothing was erased
    NotYourConversation: Refusal(status.HTTP_403_FORBIDDEN),
    AlreadyClaimed: Refusal(status.HTTP_409_CONFLICT),
    InvalidTransition: Refusal(status.HTTP_409_CONFLICT),
    FaqEntryExists: Refusal(status.HTTP_409_CONFLICT),
    UnknownProposal: Refusal(status.HTTP_404_NOT_FOUND),
    ProposalDecided: Refusal(status.HTTP_409_CONFLICT),
    AgentExists: Refusal(status.HTTP_409_CONFLICT),
    UnknownAgent: Refusal(status.HTTP_404_NOT_FOUND),
    AdminLockout: Refusal(status.HTTP_409_CONFLICT),
    WeakPassword: Refusal(status.HTTP_422_UNPROCESSABLE_CONTENT),
    WrongMessageRole: Refusal(status.HTTP_422_UNPROCESSABLE_CONTENT),
    InvalidLabel: Refusal(status.HTTP_422_UNPROCESSABLE_CONTENT),
    InvalidFilter: Refusal(status.HTTP_422_UNPROCESSABLE_CONTENT),
    InvalidCursor: Refusal(status.HTTP_422_UNPROCESSABLE_CONTENT),
    BlankGapEntry: Refusal(status.HTTP_422_UNPROCESSABLE_CONTENT),
    InvalidCredentials: Refusal(status.HTTP_401_UNAUTHORIZED, lambda _: "wrong name or password"),
    LoginThrottled: Refusal(
        status.HTTP_429_TOO_MANY_REQUESTS, lambda _: "too many failed logins; try again later", _retry_after
    ),
    # the database is out: customers' writes wait in the journal, but the workspace needs the database itself
    **{outage: Refusal(status.HTTP_503_SERVICE_UNAVAILABLE, lambda _: "the database cannot be reached; try again "
                       "shortly", lambda _: {"Retry-After": "5"}) for outage in OUTAGES},
}


def refusal_for(exc: Exception) -> Refusal | None:
    """The row for this exception or the nearest of its bases (as Starlette picks the handler)."""
    return next((REFUSALS[cls] for cls in type(exc).__mro__ if cls in REFUSALS), None)


async def refuse(connection: HTTPConnection, exc: Exception) -> Response:
    """Answer a named refusal as its status; on a socket, re-raise it (sockets answer with error frames)."""
    refusal = refusal_for(exc)
    if refusal is None or not isinstance(connection, Request):
        raise exc
    return await http_exception_handler(connection, refusal.http(exc))


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    """405 with ``Allow`` naming every method of the path: Starlette names those of the first route that matched
    the path, and this app has a route per method (``GET /api/admin/agents`` lists, ``POST`` creates)."""
    assert isinstance(exc, StarletteHTTPException)
    path = request.scope["path"]
    methods = {method for route in api_routes(request.app) if route.path_regex.match(path)
               for method in route.methods or ()}
    headers = {"Allow": ", ".join(sorted(methods))} if methods else exc.headers
    return await http_exception_handler(request, StarletteHTTPException(exc.status_code, exc.detail, headers))


def install_error_handlers(app: FastAPI) -> None:
    """Register ``refuse`` for every exception in ``REFUSALS``, and the 405 that names all of a path's methods."""
    for exc_class in REFUSALS:
        app.add_exception_handler(exc_class, refuse)
    app.add_exception_handler(status.HTTP_405_METHOD_NOT_ALLOWED, method_not_allowed)
