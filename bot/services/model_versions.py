"""Which model serves: list the versions, promote one by hand (skipping the gate), roll back to the previous one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.learning import catalog
from bot.learning.reloader import notify_replicas
from bot.services.database import transcript_store
from bot.settings import Settings
from training.registry import ModelRegistry


@dataclass(frozen=True)
class ModelVersions:
    """Every catalogued version, newest first, and the one in production."""

    production: str | None
    versions: list[dict[str, Any]]


@dataclass(frozen=True)
class ServingChange:
    """The version now in production and the one it replaced (None when nothing was served)."""

    production: str
    previous: str | None


def list_models(settings: Settings) -> ModelVersions:
    """The model catalog (database rows + registry folders); no model or encoder is loaded."""
    with transcript_store(settings) as store:
        registry = ModelRegistry(settings.models_dir)
        versions = catalog.list_versions(store, registry)
        return ModelVersions(catalog.production_version(store, registry), versions)


def promote_model(settings: Settings, version: str) -> ServingChange:
    """Serve ``version`` now, skipping the gate (recorded as forced), and tell the replicas."""
    with transcript_store(settings) as store:
        registry = ModelRegistry(settings.models_dir)
        before = catalog.production_version(store, registry)
        catalog.promote_by_hand(store, registry, version)
    notify_replicas(settings, "model")
    return ServingChange(version, before)


def roll_back_model(settings: Settings) -> ServingChange:
    """Serve the previously promoted version again and retire the current one; NothingToRollBack if none."""
    with transcript_store(settings) as store:
        registry = ModelRegistry(settings.models_dir)
        before = catalog.production_version(store, registry)
        version = catalog.rollback(store, registry)
    notify_replicas(settings, "model")
    return ServingChange(version, before)
