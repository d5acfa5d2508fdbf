"""Readiness: 200 once the model and FAQ index are loaded and the database answers, 503 before."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"description": "Still loading, or failed to load"}})
async def read_health(runtime: RuntimeDep) -> JSONResponse:
    """Report whether this replica can answer customers."""
    engine = runtime.engine
    if runtime.error:
        return JSONResponse({"status": "error", "detail": runtime.error}, status_code=503)
    if engine is None or runtime.store is None:
        return JSONResponse({"status": "loading"}, status_code=503)
    try:
        await anyio.to_thread.run_sync(runtime.store.ping)
    except Exception as exc:
        return JSONResponse({"status": "error", "detail": f"database: {exc}"}, status_code=503)
    models = engine.models
    body: dict[str, Any] = {
        "status": "ok",
        "model_version": models.classifier.version,  # the one answering customers
        "wanted_model_version": (runtime.reloader and runtime.reloader.wanted_version) or models.classifier.version,
        "faq_version": models.retriever.version,
        "load_error": runtime.load_error,  # why the wanted model or FAQ is not serving
    }
    return JSONResponse(body)
