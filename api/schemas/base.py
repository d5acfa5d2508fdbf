"""What every response body model shares, and the body of a refusal."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

# The id of a row the API looks up (a message, a proposal): the database's INTEGER. A bigger number names no row,
# and PostgreSQL refuses to compare an INTEGER column with it.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


class Out(BaseModel):
    """A response body: exactly these keys, in this order."""

    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    """One thing FastAPI's request validation refused: where, why, and what it was sent."""

    loc: list[str | int] = Field(description='Where: "body", "query", "path"... then the field and any index.')
    msg: str
    type: str = Field(description="pydantic's error type, e.g. missing, string_too_long.")
    input: Any = Field(None, description="The value refused.")
    ctx: dict[str, Any] | None = Field(None, description="The limit it broke, e.g. max_length.")


class Problem(Out):
    """A refusal, as FastAPI answers an ``HTTPException``: what went wrong, in words; a request that failed
    validation (422) lists the fields instead."""

    detail: str | list[FieldError]


def problem(description: str) -> dict[str, Any]:
    """An entry of a route's ``responses`` for a refusal with this meaning (``api.openapi`` adds the ones every
    route of its kind answers: the login, the admin check, the body limit, the database and the bot)."""
    return {"model": Problem, "description": description}
