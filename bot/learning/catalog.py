"""The model catalog: ``model_versions`` rows and the registry's CURRENT file, kept in step.

A version's row says what it was trained from, how it scored, why it was (not) promoted and whether it
failed to load; CURRENT says which folder a server starts with. Every promotion and rollback changes both
in one database transaction, moving CURRENT before the commit and putting it back if the commit fails.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import ModelVersion, utcnow
from bot.store.transcripts import TranscriptStore
from training.model import ModelNotFound
from training.registry import CURRENT_FILE, ModelRegistry

STATUSES = ("candidate", "production", "retired", "rejected")
HAND_PROMOTION = "promoted by hand with `helpline models promote`"


class NothingToRollBack(ValueError):
    """No earlier promoted version to go back to."""


class UnknownVersion(ModelNotFound):
    """No model version of that name in the catalog or the registry."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def version_view(row: ModelVersion) -> dict[str, Any]:
    """A row as JSON: what `helpline models list` prints and the agent API returns."""
    return {
        "version": row.version, "status": row.status, "created_at": _iso(row.created_at),
        "promoted_at": _iso(row.promoted_at), "trained_from": row.trained_from, "data_summary": row.data_summary,
        "metrics": row.metrics, "baseline_metrics": row.baseline_metrics, "decision": row.decision,
        "report_path": row.report_path, "load_error": row.load_error, "load_error_at": _iso(row.load_error_at),
    }


def _folder_time(folder: Path) -> datetime:
    """When a model folder was written (its config.json is saved last)."""
    return datetime.fromtimestamp((folder / "config.json").stat().st_mtime, UTC)


def _production_row(session: Session) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).where(ModelVersion.status == "production")
        .order_by(ModelVersion.promoted_at.desc().nulls_last(), ModelVersion.created_at.desc()).limit(1)
    )


def _adopt_current(session: Session, registry: ModelRegistry) -> ModelVersion | None:
    """The production row; without one, a row made for the registry's CURRENT version (e.g. setup's model)."""
    row = _production_row(session)
    if row is not None:
        return row
    current = registry.current()
    if current is None:
        return None
    row = session.get(ModelVersion, current.name)
    if row is None:
        row = ModelVersion(version=current.name, created_at=_folder_time(current))
        session.add(row)
    row.decision = row.decision or {"promote": True, "forced": False, "previous": None,
                                    "reasons": ["served before the catalog recorded it"]}
    row.status = "production"
    row.promoted_at = row.promoted_at or utcnow()
    session.flush()
    return row


@contextmanager
def _moving_current(registry: ModelRegistry, store: TranscriptStore) -> Iterator[Session]:
    """A transaction whose CURRENT change is undone if the database does not commit."""
    pointer = registry.root / CURRENT_FILE
    before = pointer.read_text().strip() if pointer.is_file() else None
    try:
        with store.session() as session, session.begin():
            yield session
    except BaseException:
        if before and (pointer.read_text().strip() if pointer.is_file() else None) != before:
            registry.promote(before)
        raise


def register_candidate(
    store: TranscriptStore,
    version: str,
    *,
    trained_from: str | None,
    data_summary: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    baseline_metrics: Mapping[str, Any] | None = None,
    report_path: str | None = None,
) -> dict[str, Any]:
    """Record a freshly trained version as a ``candidate``; returns its row."""
    with store.session() as session, session.begin():
        if session.get(ModelVersion, version) is not None:
            raise ValueError(f"model version {version} is already in the catalog")
        row = ModelVersion(
            version=version, status="candidate", trained_from=trained_from,
            data_summary=dict(data_summary) if data_summary is not None else None,
            metrics=dict(metrics) if metrics is not None else None,
            baseline_metrics=dict(baseline_metrics) if baseline_metrics is not None else None,
            report_path=report_path,
        )
        session.add(row)
        session.flush()
        return version_view(row)


def _require_row(session: Session, registry: ModelRegistry, version: str) -> ModelVersion:
    row = session.get(ModelVersion, version)
    if row is not None:
        return row
    if version not in registry.versions():
        raise UnknownVersion.at(registry.root / version, "not in the catalog or the registry")
    # a folder trained outside `helpline retrain` (`helpline train`, a copied model)
    row = ModelVersion(version=version, status="candidate", created_at=_folder_time(registry.root / version))
    session.add(row)
    session.flush()
    return row


def promote(store: TranscriptStore, registry: ModelRegistry, version: str, decision: Mapping[str, Any]) -> None:
    """Make ``version`` production (the one before it is retired) and point CURRENT at it.

    ``decision`` is stored with ``previous``: the version it replaced, where `rollback` returns to.
    """
    with _moving_current(registry, store) as session:
        previous = _adopt_current(session, registry)
        row = _require_row(session, registry, version)
        replaced = (row.decision or {}).get("previous")  # promoting the serving version again keeps its own
        if previous is not None and previous.version != version:
            previous.status = "retired"
            replaced = previous.version
        row.status = "production"
        row.promoted_at = utcnow()
        row.decision = {**decision, "previous": replaced}
        session.flush()
        registry.promote(version)


def reject(store: TranscriptStore, version: str, decision: Mapping[str, Any]) -> None:
    """Mark a candidate the gate refused as ``rejected``, with the decision and its reasons."""
    with store.session() as session, session.begin():
        row = session.get(ModelVersion, version)
        if row is None:
            raise UnknownVersion(f"model version {version} is not in the catalog")
        row.status = "rejected"
        row.decision = dict(decision)


def promote_by_hand(store: TranscriptStore, registry: ModelRegistry, version: str) -> None:
    """`helpline models promote`: skip the gate, keep any earlier reasons, record the promotion as forced."""
    with store.session() as session:
        row = session.get(ModelVersion, version)
        earlier = list((row.decision or {}).get("reasons", [])) if row is not None else []
    promote(store, registry, version, {"promote": True, "forced": True, "reasons": [*earlier, HAND_PROMOTION]})


def _rollback_target(session: Session, current: ModelVersion) -> ModelVersion:
    decision = current.decision or {}
    if "previous" in decision:  # recorded when it was promoted (None: it was the first)
        row = session.get(ModelVersion, decision["previous"]) if decision["previous"] else None
        if row is None or row.version == current.version or row.status == "rejected":
            raise NothingToRollBack(f"{current.version} replaced no other version, so there is nothing to go back to")
        return row
    fallback = session.scalar(  # catalogued without a decision (adopted from CURRENT): the last one promoted before
        select(ModelVersion).where(ModelVersion.status == "retired", ModelVersion.version != current.version,
                                   ModelVersion.promoted_at.is_not(None),
                                   ModelVersion.promoted_at <= (current.promoted_at or utcnow()))
        .order_by(ModelVersion.promoted_at.desc()).limit(1)
    )
    if fallback is None:
        raise NothingToRollBack(f"{current.version} has no earlier promoted version to go back to")
    return fallback


def rollback(store: TranscriptStore, registry: ModelRegistry) -> str:
    """Serve the version promoted before the current one again; the current one is retired. Returns it."""
    with _moving_current(registry, store) as session:
        current = _adopt_current(session, registry)
        if current is None:
            raise NothingToRollBack("no model is in production")
        target = _rollback_target(session, current)
        current.status = "retired"
        target.status = "production"
        target.promoted_at = utcnow()
        session.flush()
        registry.promote(target.version)
        return target.version


def list_versions(store: TranscriptStore, registry: ModelRegistry | None = None) -> list[dict[str, Any]]:
    """Every catalogued version, newest first (with a registry, the served one is catalogued first if needed)."""
    with store.session() as session, session.begin():
        if registry is not None:
            _adopt_current(session, registry)
        rows = session.scalars(select(ModelVersion).order_by(ModelVersion.created_at.desc())).all()
        return [version_view(row) for row in rows]


def production_version(store: TranscriptStore, registry: ModelRegistry | None = None) -> str | None:
    """The version that should serve: the catalog's production row, else the registry's CURRENT (if given)."""
    with store.session() as session:
        row = _production_row(session)
        if row is not None:
            return row.version
    current = registry.current() if registry is not None else None
    return current.name if current is not None else None
