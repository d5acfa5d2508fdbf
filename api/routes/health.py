"""Readiness: 200 once the model and FAQ index are loaded and the database answers, 503 before."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep
from api.schemas.health import HealthOut, NotReadyOut

router = APIRouter(tags=["health"])


def _not_ready(detail: str | None = None) -> JSONResponse:
    return JSONResponse(NotReadyOut(status="error" if detail else "loading", detail=detail)
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
    try:
        await anyio.to_thread.run_sync(runtime.store.ping)
    except Exception as exc:
        return _not_ready(f"database: {exc}")
    models = engine.models
    body = HealthOut(
        status="ok",
        model_version=models.classifier.version,  # the one answering customers
        wanted_model_version=(runtime.reloader and runtime.reloader.wanted_version) or models.classifier.version,
        faq_version=models.retriever.version,
        load_error=runtime.load_error,  # why the wanted model or FAQ is not serving
    )
    return JSONResponse(body.model_dump(mode="json"))
