"""Readiness as ``/health`` reports it."""

from __future__ import annotations

from pydantic import Field

from api.schemas.base import Out


class HealthOut(Out):
    """Ready: which model and FAQ answer customers."""

    status: str = Field(description="ok, or degraded: the database is out or writes made while it was out still "
                                    "wait in the journal (customers are answered all the same)")
    database: str = Field(description="ok | unreachable")
    journal: int = Field(description="Customers' writes waiting in this server's journal for the database.")
    model_version: str | None = Field(description="The model answering customers.")
    wanted_model_version: str | None = Field(description="The model that should answer (the catalog's production).")
    faq_version: str | None
    load_error: str | None = Field(description="Why the wanted model or FAQ is not serving.")


class NotReadyOut(Out):
    """Not ready: still loading (no detail), failed to load (why), or stopping."""

    status: str = Field(description="loading | error | draining (stopping: send new visitors elsewhere)")
    detail: str | None = None
