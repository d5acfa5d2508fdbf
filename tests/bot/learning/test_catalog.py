"""The model catalog on real SQLite and PostgreSQL, with a real registry folder: rows and CURRENT in step."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.learning import catalog
from bot.store.models import ModelVersion
from bot.store.transcripts import TranscriptStore
from training.registry import ModelRegistry

GATED: dict[str, Any] = {"promote": True, "forced": False, "reasons": ["not worse"]}
REFUSED: dict[str, Any] = {"promote": False, "forced": False, "reasons": ["intent refunds drops"]}


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "models")


def add_folder(registry: ModelRegistry, version: str) -> str:
    """A version folder the registry recognises (its config.json; no weights are needed here)."""
    (registry.root / version).mkdir(parents=True)
    (registry.root / version / "config.json").write_text(json.dumps({"format": "helpline-intent-classifier"}))
    return version


def trained(store: TranscriptStore, registry: ModelRegistry, version: str, accuracy: float = 0.9) -> str:
    add_folder(registry, version)
    catalog.register_candidate(store, version, trained_from="base", data_summary={"rows": 10},
                               metrics={"accuracy": accuracy}, report_path=f"/reports/{version}/index.html")
    return version


def statuses(store: TranscriptStore) -> dict[str, str]:
    return {row["version"]: row["status"] for row in catalog.list_versions(store)}


def current(registry: ModelRegistry) -> str | None:
    path = registry.current()
    return path.name if path else None


def test_production_version_falls_back_to_current_while_the_catalog_has_none(
        store: TranscriptStore, registry: ModelRegistry) -> None:
    assert catalog.production_version(store, registry) is None
    registry.promote(add_folder(registry, "v0-setup"))
    assert catalog.production_version(store) is None  # without the registry there is nothing to fall back on
    assert catalog.production_version(store, registry) == "v0-setup"
    trained(store, registry, "v1")
    catalog.reject(store, "v1", REFUSED)  # rows but no production row: still CURRENT
    assert catalog.production_version(store, registry) == "v0-setup"


def test_register_then_promote_moves_the_row_and_current_together(
        store: TranscriptStore, registry: ModelRegistry) -> None:
    row = catalog.register_candidate(store, add_folder(registry, "v1"), trained_from="base", metrics={"accuracy": 1.0})
    assert row["status"] == "candidate" and row["metrics"] == {"accuracy": 1.0} and row["promoted_at"] is None
    catalog.promote(store, registry, "v1", GATED)
    trained(store, registry, "v2")
    catalog.promote(store, registry, "v2", GATED)
    assert statuses(store) == {"v1": "retired", "v2": "production"}
    assert current(registry) == "v2" and catalog.production_version(store, registry) == "v2"
    v2 = next(r for r in catalog.list_versions(store) if r["version"] == "v2")
    assert v2["decision"] == {**GATED, "previous": "v1"} and v2["promoted_at"] is not None
    assert v2["report_path"] == "/reports/v2/index.html" and v2["data_summary"] == {"rows": 10}
    with pytest.raises(ValueError, match="already"):
        catalog.register_candidate(store, "v2", trained_from="base")


def test_a_refused_candidate_is_rejected_and_nothing_else_moves(
        store: TranscriptStore, registry: ModelRegistry) -> None:
    catalog.promote(store, registry, trained(store, registry, "v1"), GATED)
    catalog.reject(store, trained(store, registry, "v2", accuracy=0.1), REFUSED)
    assert statuses(store) == {"v1": "production", "v2": "rejected"}
    assert current(registry) == "v1"
    rejected = next(r for r in catalog.list_versions(store) if r["version"] == "v2")
    assert rejected["decision"] == REFUSED


def test_the_model_setup_trained_is_adopted_so_a_rollback_can_return_to_it(
        store: TranscriptStore, registry: ModelRegistry) -> None:
    registry.promote(add_folder(registry, "v0-setup"))  # served before the catalog knew of it
    catalog.promote(store, registry, trained(store, registry, "v1"), GATED)
    assert statuses(store) == {"v0-setup": "retired", "v1": "production"}
    assert catalog.rollback(store, registry) == "v0-setup"
    assert statuses(store) == {"v0-setup": "production", "v1": "retired"}
    assert current(registry) == "v0-setup"
    with pytest.raises(catalog.NothingToRollBack):
        catalog.rollback(store, registry)


def test_rollbacks_walk_back_through_the_promotions(store: TranscriptStore, registry: ModelRegistry) -> None:
    for version in ("a", "b", "c"):
        catalog.promote(store, registry, trained(store, registry, version), GATED)
    assert catalog.rollback(store, registry) == "b"
    assert current(registry) == "b" and statuses(store) == {"a": "retired", "b": "production", "c": "retired"}
    assert catalog.rollback(store, registry) == "a"
    assert current(registry) == "a"
    with pytest.raises(catalog.NothingToRollBack, match="nothing to go back to"):
        catalog.rollback(store, registry)
    assert current(registry) == "a" and catalog.production_version(store, registry) == "a"


def test_promote_by_hand_skips_the_gate_and_keeps_its_reasons(store: TranscriptStore, registry: ModelRegistry) -> None:
    catalog.promote(store, registry, trained(store, registry, "v1"), GATED)
    catalog.reject(store, trained(store, registry, "v2"), REFUSED)
    catalog.promote_by_hand(store, registry, "v2")
    v2 = next(r for r in catalog.list_versions(store) if r["version"] == "v2")
    assert v2["status"] == "production" and v2["decision"]["forced"] is True
    assert v2["decision"]["reasons"] == [*REFUSED["reasons"], catalog.HAND_PROMOTION]
    assert current(registry) == "v2"
    catalog.promote_by_hand(store, registry, add_folder(registry, "v3-trained-by-hand"))  # a folder without a row
    assert statuses(store)["v3-trained-by-hand"] == "production"
    with pytest.raises(catalog.UnknownVersion):
        catalog.promote_by_hand(store, registry, "nope")
    assert current(registry) == "v3-trained-by-hand"


def test_a_failed_promotion_changes_neither_rows_nor_current(store: TranscriptStore, registry: ModelRegistry) -> None:
    catalog.promote(store, registry, trained(store, registry, "v1"), GATED)
    catalog.register_candidate(store, "ghost", trained_from="base")  # its folder was never written
    with pytest.raises(FileNotFoundError):
        catalog.promote(store, registry, "ghost", GATED)
    assert statuses(store) == {"v1": "production", "ghost": "candidate"}
    assert current(registry) == "v1"
    with store.session() as session:
        assert session.get(ModelVersion, "ghost").promoted_at is None  # type: ignore[union-attr]
