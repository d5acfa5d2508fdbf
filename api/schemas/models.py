"""Model versions as agents see them: status, headline metrics, the promotion decision, the report's address."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from api.schemas.base import Out

Figures = dict[str, bool | int | float | str]


class ModelVersionOut(Out):
    version: str
    status: str = Field(description="candidate | production | retired | rejected")
    created_at: str | None
    promoted_at: str | None
    trained_from: str | None = Field(description='"base" or the version it was fine-tuned from.')
    data_summary: dict[str, Any] | None
    metrics: Figures | None = Field(description="The scalar figures (per-intent tables stay in the report).")
    baseline_metrics: Figures | None
    decision: dict[str, Any] | None = Field(description="Why it was, or was not, promoted.")
    load_error: str | None
    load_error_at: str | None
    serving: bool = Field(description="This server answers customers with it.")
    report_url: str | None


class ModelsOut(Out):
    serving: str | None = Field(description="The version answering customers here.")
    load_error: str | None = Field(description="Why the wanted model or FAQ is not serving.")
    production: str | None = Field(description="The version that should serve.")
    versions: list[ModelVersionOut] = Field(description="Newest first.")
