"""Model versions for agents: which one serves, which one should, why each was promoted, and its report.

Every endpoint needs a logged-in agent: the router requires it. Reports are files the retrain wrote in the
version's folder (``<models_dir>/<version>/report/``); they are served with a strict Content-Security-Policy.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from api.deps import AGENTS_ONLY, RuntimeDep, SettingsDep, StoreDep
from api.schemas.base import problem
from api.schemas.models import ModelsOut
from bot.learning import catalog
from bot.learning.reloader import production_version
from bot.settings import Settings
from bot.store.transcripts import TranscriptStore

router = APIRouter(prefix="/api/agent/models", tags=["models"], dependencies=AGENTS_ONLY)

VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PLOT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
REPORT_DIR = "report"
REPORT_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: problem("No such version, or no report for it")}


def _file(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route that serves a report file (and 404s without one)."""
    return {200: {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}, **NOT_FOUND}


def report_url(version: str) -> str:
    # the trailing slash lets the report's relative plot links resolve under .../report/
    return f"/api/agent/models/{version}/report/"


def _summary(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    """The scalar figures of a metrics dict (per-intent tables and matrices stay in the report)."""
    if metrics is None:
        return None
    return {key: value for key, value in metrics.items() if isinstance(value, (int, float, str, bool))}


def _version_view(row: dict[str, Any], settings: Settings, serving: str | None) -> dict[str, Any]:
    version = row["version"]
    report = Path(row["report_path"]) if row.get("report_path") else settings.models_dir / version / REPORT_DIR
    has_report = (report if report.suffix == ".html" else report / "index.html").is_file()
    return {
        **{key: value for key, value in row.items() if key != "report_path"},  # no server paths to browsers
        "serving": version == serving,
        "metrics": _summary(row.get("metrics")),
        "baseline_metrics": _summary(row.get("baseline_metrics")),
        "report_url": report_url(version) if has_report else None,
    }


def list_models(store: TranscriptStore, settings: Settings, serving: str | None) -> dict[str, Any]:
    """The catalog as agents see it, newest version first (blocking: call it from a worker thread)."""
    return {
        "production": production_version(store, settings),
        "versions": [_version_view(row, settings, serving) for row in catalog.list_versions(store)],
    }


@router.get("", response_model=ModelsOut)
async def read_models(runtime: RuntimeDep, store: StoreDep) -> dict[str, Any]:
    """Every model version with its status, metrics and promotion decision; which one serves, and any load error."""
    serving = runtime.engine.models.classifier.version if runtime.engine else None
    listing = await anyio.to_thread.run_sync(list_models, store, runtime.settings, serving)
    return {"serving": serving, "load_error": runtime.load_error, **listing}


def _report_file(settings: Settings, version: str, name: str) -> Path:
    if not VERSION.fullmatch(version):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such model version")
    path = settings.models_dir / version / REPORT_DIR / name
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no report file {name} for model {version}")
    return path


@router.get("/{version}/report", response_class=FileResponse, responses=_file("text/html", "The report page"))
@router.get("/{version}/report/", response_class=FileResponse, include_in_schema=False)
async def read_report(version: str, settings: SettingsDep) -> FileResponse:
    """The version's evaluation report (HTML)."""
    return FileResponse(_report_file(settings, version, "index.html"), media_type="text/html",
                        headers=REPORT_HEADERS)


@router.get("/{version}/report/{name}.png", response_class=FileResponse, responses=_file("image/png", "The plot"))
async def read_report_plot(version: str, name: str, settings: SettingsDep) -> FileResponse:
    """One plot of the version's report (PNG)."""
    if not PLOT.fullmatch(name):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such plot")
    return FileResponse(_report_file(settings, version, f"{name}.png"), media_type="image/png",
                        headers=REPORT_HEADERS)
