"""The agents' console pages: ``/agent`` (inbox, transcript, handoff) and ``/agent/login``.

Both are static pages; the server only decides which one a visitor gets: the console for a logged-in
agent, the login page otherwise. A strict Content-Security-Policy keeps them to their own scripts,
styles and server, so a customer's text can never load or run anything.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.deps import authenticate, get_runtime
from api.routes.pages import HTML_PAGE, STATIC
from bot.workspace.accounts import Accounts

CONSOLE = STATIC / "console"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; media-src 'none'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


def _page(name: str) -> FileResponse:
    return FileResponse(CONSOLE / name, media_type="text/html", headers=SECURITY_HEADERS)


def _redirect(location: str) -> RedirectResponse:
    # the browser keeps the URL's #fragment (the open conversation) across the redirect
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})


def _signed_in(request: Request) -> bool | None:
    """Whether the request carries a live agent session; None while the database is not up yet."""
    runtime = get_runtime(request)
    if runtime.store is None:
        return None
    return authenticate(request, Accounts(runtime.store, runtime.settings.session_hours)) is not None


# plain ``def`` handlers: the session lookup is a database read, run in FastAPI's thread pool
@router.get("/agent", response_class=FileResponse, responses={**HTML_PAGE, 303: {"description": "Log in first"}})
def read_console(request: Request) -> Response:
    """The console for a logged-in agent; anyone else goes to the login page."""
    if _signed_in(request) is False:
        return _redirect("/agent/login?next=/agent")
    return _page("index.html")


@router.get("/agent/login", response_class=FileResponse,
            responses={**HTML_PAGE, 303: {"description": "Logged in already"}})
def read_login_page(request: Request) -> Response:
    """The login page; an agent who is already logged in goes straight to the console."""
    if _signed_in(request):
        return _redirect("/agent")
    return _page("login.html")
