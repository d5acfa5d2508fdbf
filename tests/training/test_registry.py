from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from training.model import IntentClassifier, ModelNotFound
from training.registry import ModelRegistry
from training.trainer import TrainResult


def fake_version(registry: ModelRegistry, name: str) -> None:
    (registry.root / name).mkdir(parents=True)
    (registry.root / name / "config.json").write_text("{}")


def test_new_version_path_is_timestamped_and_not_created(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    path = registry.new_version_path()
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{4}", path.name)
    assert path.parent == tmp_path / "models" and not path.exists()
    assert registry.new_version_path() != path


def test_versions_oldest_first_and_only_complete_ones(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    assert registry.versions() == [] and registry.current() is None
    for name in ("20260102-000000-bbbb", "20260101-000000-aaaa"):
        fake_version(registry, name)
    (tmp_path / "20260103-000000-cccc").mkdir()  # still being written: no config.json
    (tmp_path / ".staging").mkdir()
    assert registry.versions() == ["20260101-000000-aaaa", "20260102-000000-bbbb"]


def test_promote_and_current(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    fake_version(registry, "v1")
    fake_version(registry, "v2")
    registry.promote("v1")
    assert registry.current() == tmp_path / "v1"
    registry.promote("v2")
    assert registry.current() == tmp_path / "v2"
    assert (tmp_path / "CURRENT").read_text().strip() == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CURRENT", "v1", "v2"]  # no temp files left


def test_unknown_version_is_model_not_found(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path)
    with pytest.raises(ModelNotFound, match="helpline train"):
        registry.promote("nope")
    with pytest.raises(ModelNotFound):
        registry.promote("../elsewhere")
    fake_version(registry, "v1")
    registry.promote("v1")
    shutil.rmtree(tmp_path / "v1")
    with pytest.raises(ModelNotFound):
        registry.current()


def test_a_trained_model_is_a_registry_entry(tiny_model: TrainResult, tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    version = registry.new_version_path()
    shutil.copytree(tiny_model.path, version)
    registry.promote(version.name)
    current = registry.current()
    assert current is not None
    assert IntentClassifier.load(current, device="cpu").version == version.name
