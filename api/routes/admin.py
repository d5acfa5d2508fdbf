"""Admin-only endpoints: list and create agent accounts (the router requires an admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, status

from api.deps import AccountsDep, admin_agent
from api.schemas.admin import AgentAccountOut, AgentIn
from api.schemas.auth import AgentOut
from api.schemas.base import ADMIN_REQUIRED, problem

router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(admin_agent)],
                   responses=ADMIN_REQUIRED)


@router.get("/agents", response_model=list[AgentAccountOut])
def list_agents(accounts: AccountsDep) -> list[dict[str, Any]]:
    """Every agent account (never a password hash)."""
    return accounts.list_agents()


@router.post("/agents", status_code=status.HTTP_201_CREATED, response_model=AgentOut,
             responses={409: problem("Name taken")})
def create_agent(body: AgentIn, accounts: AccountsDep) -> dict[str, Any]:
    """Create an agent or admin account."""
    return accounts.add_agent(body.name, body.password, body.role, body.display_name).to_dict()
