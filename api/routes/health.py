"""Readiness: 200 once the model and FAQ index are loaded, 503 before.

While the database is out (or writes made during an outage still wait in the journal) the server still
answers customers, so it stays ready: 200 with ``"status": "degraded"`` and how many writes wait. The database's
address and error stay in the server's log, not on this public page.
"""

from __future__ import annotations

import logging

import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep
from api.schemas.health import HealthOut, NotReadyOut
from bot.store.transcripts import OUTAGES

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


def _not_ready(detail: str | None = None, status: str | None = None) -> JSONResponse:
    return JSONResponse(NotReadyOut(status=status or ("error" if detail else "loading"), detail=detail)
                        .model_dump(mode="json", exclude_none=True), status_code=503)


@router.get("/health", response_model=HealthOut,
            responses={503: {"model": NotReadyOut, "description": "Still loading, or failed to load"}})
async def read_health(runtime: RuntimeDep) -> JSONResponse:
    """Report whether this replica can answer customers."""
    engine = runtime.engine
    if runtime.error:
        return _not_ready(runtime.error)
    if engine is None or runtime.store is None:
        return _not_ready()
    if runtime.draining.is_set():  # stopping: the proxy should send new visitors elsewhere
        return _not_ready("the server is stopping", "draining")
    database_ok = True
    try:
        await anyio.to_thread.run_sync(runtime.store.ping)
    except OUTAGES as exc:
        log.warning("health: the database cannot be reached: %s", exc)
        database_ok = False
    journal = runtime.store.journal
    waiting = journal.waiting if journal is not None else 0
    models = engine.models
    body = HealthOut(
        status="ok" if database_ok and not waiting else "degraded",
        database="ok" if database_ok else "unreachable",
        journal=waiting,
        model_version=models.classifier.version,  # the one answering customers
        wanted_model_version=(runtime.reloader and runtime.reloader.wanted_version) or models.classifier.version,
        faq_version=models.retriever.version,
        load_error=runtime.load_error,  # why the wanted model or FAQ is not serving
    )
    return JSONResponse(body.model_dump(mode="json"))
