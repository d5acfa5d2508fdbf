"""Agent login and logout: a session token returned as JSON (for the API) and set as a cookie (for the console)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from api.deps import SESSION_COOKIE, AccountsDep, SettingsDep, session_token
from bot.workspace.accounts import InvalidCredentials, LoginThrottled

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


@router.post(
    "/login",
    responses={401: {"description": "Wrong name or password"}, 429: {"description": "Too many failures"}},
)
def login(body: LoginIn, request: Request, accounts: AccountsDep, settings: SettingsDep) -> JSONResponse:
    """Exchange a name and password for a session; sets the console's HttpOnly cookie too."""
    remote = request.client.host if request.client else None
    try:
        token, agent = accounts.login(body.name, body.password, remote)
    except LoginThrottled as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, "too many failed logins; try again later",
            headers={"Retry-After": str(exc.retry_after)},
        ) from exc
    except InvalidCredentials as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong name or password") from exc
    body_out: dict[str, Any] = {"token": token, "agent": agent.to_dict()}
    response = JSONResponse(body_out)
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(settings.session_hours * 3600), path="/",
        httponly=True, samesite="strict", secure=settings.cookie_secure,
    )
    return response


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, accounts: AccountsDep, settings: SettingsDep) -> Response:
    """End the session of this cookie or bearer token (harmless when there is none)."""
    token = session_token(request)
    if token:
        accounts.logout(token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=settings.cookie_secure)
    return response
