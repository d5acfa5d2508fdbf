"""The FastAPI application factory: one app per settings, with the bot loading in the background."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from api.body_limit import BodyLimit
from api.channels import rest
from api.channels.socketio import SocketioChannel
from api.errors import install_error_handlers
from api.log_scrub import scrub_server_logs
from api.openapi import install_openapi
from api.routes import (
    admin,
    agent_api,
    agent_ws,
    auth,
    console,
    customer_ws,
    faq_proposals,
    gaps,
    health,
    models,
    pages,
)
from api.routes.pages import STATIC
from api.throttle import AddressLimits
from bot.runtime import Runtime
from bot.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the Helpline app; the model and index load after start-up while /health says 503."""
    runtime = Runtime(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scrub_server_logs()  # after the server set up its logging
        loading = asyncio.create_task(runtime.start())
        yield
        loading.cancel()
        await runtime.stop()

    app = FastAPI(
        title="Helpline",
        summary="Customer-service bot: intent classification, FAQ retrieval, streamed replies.",
        version="0.1.0",
        lifespan=lifespan,
        # bodies rendered by json.dumps, as before routes declared response models: pydantic's direct JSON
        # writer would spell some floats differently (0.00001 for 1e-05)
        default_response_class=JSONResponse,
    )
    app.state.runtime = runtime
    app.state.address_limits = AddressLimits(runtime.settings)
    app.state.rest_channel = rest.RestChannel(runtime.settings)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=runtime.settings.max_body_bytes)
    for module in (health, customer_ws, rest, agent_ws, auth, agent_api, admin, models, gaps, faq_proposals,
                   console, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    app.state.socketio = SocketioChannel(runtime, app.state.address_limits)
    app.mount("/socket.io", app.state.socketio.app)  # Rasa's socket.io channel
    install_openapi(app)
    return app
