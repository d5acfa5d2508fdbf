"""Agent login and logout: a session token returned as JSON (for the API) and set as a cookie (for the console).

Both answer without a login; wrong credentials and throttling are refusals mapped in ``api.errors``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse, Response

from api.deps import (
    SESSION_COOKIE,
    AccountsDep,
    SettingsDep,
    refuse_cross_site,
    refuse_unstorable_text,
    session_token,
)
from api.origins import same_origin
from api.schemas.auth import AgentOut, LoginIn, LoginOut
from api.schemas.base import problem

router = APIRouter(prefix="/api/auth", tags=["auth"], dependencies=[Depends(refuse_unstorable_text)])


@router.post(
    "/login", response_model=LoginOut,
    responses={401: problem("Wrong name or password"), 403: problem("Sent from another site's page"),
               429: problem("Too many failures")},
)
def login(body: LoginIn, request: Request, accounts: AccountsDep, settings: SettingsDep) -> JSONResponse:
    """Exchange a name and password for a session; sets the console's HttpOnly cookie too."""
    origin = request.headers.get("origin")
    if origin is not None and not same_origin(origin, request.headers.get("host")):  # login CSRF
        raise HTTPException(status.HTTP_403_FORBIDDEN, "log in from the console's own page")
    remote = request.client.host if request.client else None
    token, agent = accounts.login(body.name, body.password, remote)
    response = JSONResponse(LoginOut(token=token, agent=AgentOut(**agent.to_dict())).model_dump(mode="json"))
    response.set_cookie(
        SESSION_COOKIE, token, max_age=int(settings.session_hours * 3600), path="/",
        httponly=True, samesite="strict", secure=settings.cookie_secure,
    )
    return response


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT,
             responses={403: problem("Sent with the console's cookie from another site's page")})
def logout(request: Request, accounts: AccountsDep, settings: SettingsDep) -> Response:
    """End the session of this cookie or bearer token (harmless when there is none)."""
    refuse_cross_site(request)
    token = session_token(request)
    if token:
        accounts.logout(token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=settings.cookie_secure)
    return response
