"""What ``/openapi.json`` says an operation answers besides its own refusals, read from what its route depends on,
so that a route added tomorrow is documented like its neighbours and the schema says what the edge really does.

- the login (``current_agent``): 401 with ``WWW-Authenticate``, the bearer and cookie security schemes, and 403
  for a state change riding on the console's cookie from another site's page;
- the admin check (``admin_agent``): 403;
- the database (``get_store``, ``get_handoff``): 503 while the server starts, or while the database cannot be
  reached (then with ``Retry-After``);
- the bot (``get_engine``): 503 while it loads, or once it failed to;
- a request body: 400 when it is not text (FastAPI's), 413 over ``max_body_bytes`` (``api.body_limit``), 422;
- a parameter, or the text check (``refuse_unstorable_text``): 422.

A route adds its own refusals (404, 409, the ``REFUSALS`` of ``api.errors`` it can meet) with
``api.schemas.base.problem``. Every refusal's body is ``Problem``: ``detail`` in words, or the fields a request
failed validation on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.deps import (
    SESSION_COOKIE,
    admin_agent,
    current_agent,
    get_engine,
    get_handoff,
    get_store,
    refuse_unstorable_text,
)
from api.schemas.base import Problem

REF = "#/components/schemas/"
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "The `token` of `POST /api/auth/login`, as `Authorization: Bearer <token>`."},
    "session_cookie": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                       "description": "The console's HttpOnly cookie, set by `POST /api/auth/login`. A request "
                                      "other than GET/HEAD/OPTIONS that carries it must come from the server's own "
                                      "pages (`Origin`), else 403."},
}
# either one: an agent's or an admin's session (the admin routes answer 403 to an agent's)
LOGGED_IN: list[dict[str, list[str]]] = [{"bearer": []}, {"session_cookie": []}]
SAFE_METHODS = frozenset({"get", "head", "options"})


def _header(description: str, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


RETRY_AFTER = "Retry-After"
SECONDS = {"type": "integer", "minimum": 0}


@dataclass(frozen=True)
class Answer:
    """One status an operation may answer: what it means, and the headers that come with it."""

    description: str
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)


NOT_LOGGED_IN = Answer("Not logged in as an agent: no session token, or one that is unknown or has expired",
                       {"WWW-Authenticate": _header("How to log in", {"type": "string", "enum": ["Bearer"]}, True)})
CROSS_SITE = Answer("Sent with the console's cookie from another site's page (an `Origin` that is not this "
                    "server's, or none): send it from the console, or with an `Authorization` header")
NO_DATABASE = Answer("The server is starting, or the database cannot be reached (then with `Retry-After`)",
                     {RETRY_AFTER: _header("Seconds to wait before trying again", SECONDS, False)})
NO_BOT = Answer("The bot is still loading, or it failed to load")
INVALID = Answer("A parameter or the body is invalid, or some text in them holds a NUL character or a lone "
                 "surrogate: `detail` lists the fields (or says why, in words)")
# what a dependency makes every route that takes it answer, before (or instead of) its handler
ANSWERS: dict[Callable[..., Any], dict[int, Answer]] = {
    current_agent: {401: NOT_LOGGED_IN},
    admin_agent: {403: Answer("Not an admin")},
    get_store: {503: NO_DATABASE},
    get_handoff: {503: NO_DATABASE},
    get_engine: {503: NO_BOT},
    refuse_unstorable_text: {422: INVALID},
}
TOO_LARGE = Answer("The request body is over the server's limit (`HELPLINE_MAX_BODY_BYTES`)")
UNREADABLE = Answer("The body cannot be read as JSON text (it is not UTF-8, say)")
# what a status says wherever it is answered
HEADERS: dict[int, dict[str, dict[str, Any]]] = {
    429: {RETRY_AFTER: _header("Seconds to wait before trying again", SECONDS, True)},
}


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every HTTP route of the app, also those of included routers (newer FastAPI keeps each router whole)."""
    found: list[APIRoute] = []
    pending: list[Any] = list(app.routes)
    while pending:
        route = pending.pop(0)
        if isinstance(route, APIRoute):
            found.append(route)
        elif getattr(route, "original_router", None) is not None:
            pending.extend(route.original_router.routes)
    return found


def dependencies(route: APIRoute) -> Iterator[Callable[..., Any]]:
    """Everything the route's handler depends on, directly or through other dependencies (its router's too)."""
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if dependant.call is not None:
            yield dependant.call
        pending.extend(dependant.dependencies)


def edge_answers(route: APIRoute, method: str, operation: dict[str, Any]) -> dict[int, list[Answer]]:
    """The statuses the route answers for what it depends on and what it takes, with their meanings."""
    answers: dict[int, list[Answer]] = {}
    for call in dependencies(route):
        for status, answer in ANSWERS.get(call, {}).items():
            if answer not in answers.setdefault(status, []):
                answers[status].append(answer)
    if 401 in answers and method not in SAFE_METHODS:
        answers.setdefault(403, []).append(CROSS_SITE)
    if "requestBody" in operation:
        answers[400], answers[413] = [UNREADABLE], [TOO_LARGE]
    if "requestBody" in operation or operation.get("parameters"):
        answers[422] = [INVALID]
    return answers


def _merge(response: dict[str, Any], answer: Answer) -> None:
    """Add ``answer``'s meaning to a response the route documents itself (its own words first)."""
    described = response.get("description")
    if not described or described == "Validation Error":  # FastAPI's own word for its 422
        response["description"] = answer.description
    elif answer.description not in described:
        response["description"] = f"{described}; or: {answer.description[0].lower()}{answer.description[1:]}"
    if answer.headers:
        response.setdefault("headers", {}).update(answer.headers)


def _refusal_body(response: dict[str, Any]) -> None:
    """A refusal's body is ``Problem`` unless the route documents another (``/health``'s 503)."""
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("$ref") in (None, f"{REF}HTTPValidationError"):
        response["content"] = {"application/json": {"schema": {"$ref": f"{REF}Problem"}}}


def describe_edge(spec: dict[str, Any], routes: list[APIRoute]) -> None:
    """Add to ``spec`` (FastAPI's) the security schemes, and what every operation answers for its dependencies."""
    by_operation = {(route.path_format, method.lower()): route for route in routes for method in route.methods or ()}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            route = by_operation[path, method]
            responses = operation["responses"]
            answers = edge_answers(route, method, operation)
            for status, meanings in sorted(answers.items()):
                for answer in meanings:
                    _merge(responses.setdefault(str(status), {}), answer)
            if current_agent in set(dependencies(route)):
                operation["security"] = LOGGED_IN
            for code, response in responses.items():
                if code.isdigit() and int(code) >= 400:
                    _refusal_body(response)
                    response.setdefault("headers", {}).update(HEADERS.get(int(code), {}))
                    if not response["headers"]:
                        del response["headers"]
            operation["responses"] = dict(sorted(responses.items()))
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 body: Problem says it now
        schemas.pop(name, None)
    problem = Problem.model_json_schema(ref_template=REF + "{model}", mode="serialization")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    components["schemas"] = dict(sorted(schemas.items()))
    components["securitySchemes"] = SECURITY_SCHEMES


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and so ``/openapi.json``) FastAPI's schema with ``describe_edge`` applied."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            describe_edge(generate(), api_routes(app))
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
