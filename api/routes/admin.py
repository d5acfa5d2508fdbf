"""Admin-only endpoints: list and create agent accounts."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from api.deps import AccountsDep, AdminAgent
from bot.workspace.accounts import MIN_PASSWORD_CHARS, AgentExists

router = APIRouter(prefix="/api/admin", tags=["admin"])


class AgentIn(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_.@+-]{1,64}$")
    display_name: str | None = Field(None, min_length=1, max_length=128)
    role: Literal["agent", "admin"] = "agent"
    password: str = Field(min_length=MIN_PASSWORD_CHARS, max_length=1024)


@router.get("/agents")
def list_agents(admin: AdminAgent, accounts: AccountsDep) -> list[dict[str, Any]]:
    """Every agent account (never a password hash)."""
    return accounts.list_agents()


@router.post("/agents", status_code=status.HTTP_201_CREATED, responses={409: {"description": "Name taken"}})
def create_agent(body: AgentIn, admin: AdminAgent, accounts: AccountsDep) -> dict[str, Any]:
    """Create an agent or admin account."""
    try:
        agent = accounts.add_agent(body.name, body.password, body.role, body.display_name)
    except AgentExists as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return agent.to_dict()
