"""Readiness as ``/health`` reports it."""

from __future__ import annotations

from pydantic import Field

from api.schemas.base import Out


class HealthOut(Out):
    """Ready: which model and FAQ answer customers."""

    status: str = Field(description="ok")
    model_version: str | None = Field(description="The model answering customers.")
    wanted_model_version: str | None = Field(description="The model that should answer (the catalog's production).")
    faq_version: str | None
    load_error: str | None = Field(description="Why the wanted model or FAQ is not serving.")


class NotReadyOut(Out):
    """Not ready: still loading (no detail), or failed to load or to reach the database (why)."""

    status: str = Field(description="loading | error")
    detail: str | None = None
