"""Agent accounts as admins create and list them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from api.schemas.base import Out
from bot.workspace.accounts import MIN_PASSWORD_CHARS


class AgentIn(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.@+-]{1,64}$")
    display_name: str | None = Field(None, min_length=1, max_length=128)
    role: Literal["agent", "admin"] = "agent"
    password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=1024)

    @field_validator("display_name")
    @classmethod
    def visible(cls, value: str | None) -> str | None:
        """The name agents see is stored stripped: one of spaces only would be no name."""
        if value is not None and not value.strip():
            raise ValueError("a display name needs a character other than spaces")
        return value


class AgentAccountOut(Out):
    """An account (never its password hash)."""

    id: int
    name: str
    display_name: str
    role: str = Field(description="agent | admin")
    disabled: bool
    created_at: str | None


class PasswordIn(BaseModel):
    password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=1024)


class AccountChangeOut(Out):
    """The account after the change, and how many live sessions the change ended."""

    agent: AgentAccountOut
    revoked: int = Field(description="Live sessions ended: their tokens stop working and their sockets close.")


class AgentSessionOut(Out):
    """A live login (never its token)."""

    created_at: str | None
    expires_at: str | None
