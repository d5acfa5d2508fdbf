"""Logging in: the credentials, and the agent and session token they buy."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.base import Out


class LoginIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class AgentOut(Out):
    """Who a request acts as."""

    id: int
    name: str
    display_name: str
    role: str = Field(description="agent | admin")


class LoginOut(Out):
    token: str = Field(description="Send as `Authorization: Bearer <token>`; the console gets it as a cookie.")
    agent: AgentOut
