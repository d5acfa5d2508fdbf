"""What every response body model shares, and the body of a refusal."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Out(BaseModel):
    """A response body: exactly these keys, in this order."""

    model_config = ConfigDict(extra="forbid")


class Problem(Out):
    """A refusal, as FastAPI answers an ``HTTPException``: what went wrong, in words."""

    detail: str


def problem(description: str) -> dict[str, Any]:
    """An entry of a route's ``responses`` for a refusal with this meaning."""
    return {"model": Problem, "description": description}


# what the agent and admin routers answer before any route runs
LOGIN_REQUIRED: dict[int | str, dict[str, Any]] = {401: problem("Not logged in as an agent")}
ADMIN_REQUIRED: dict[int | str, dict[str, Any]] = {**LOGIN_REQUIRED, 403: problem("Not an admin")}
