"""Which model serves, in-process: list the catalog, promote a version by hand, roll back."""

from __future__ import annotations

import os
import shutil

import pytest

from bot.learning.catalog import NothingToRollBack, UnknownVersion
from bot.services.model_versions import list_models, promote_model, roll_back_model
from bot.settings import Settings
from training.registry import ModelRegistry


def test_promote_by_hand_then_roll_back_then_nothing_left_to_roll_back(served_settings: Settings) -> None:
    registry = ModelRegistry(served_settings.models_dir)
    first = registry.current()
    assert first is not None
    second = registry.new_version_path()  # a second version: the same model's files, hard-linked
    shutil.copytree(first, second, copy_function=os.link)

    catalog = list_models(served_settings)  # the served folder is adopted into the catalog
    assert catalog.production == first.name and [v["version"] for v in catalog.versions] == [first.name]

    change = promote_model(served_settings, second.name)
    assert (change.production, change.previous) == (second.name, first.name)
    assert registry.current() == second
    rows = {row["version"]: row for row in list_models(served_settings).versions}
    assert rows[second.name]["status"] == "production" and rows[second.name]["decision"]["forced"] is True

    back = roll_back_model(served_settings)
    assert (back.production, back.previous) == (first.name, second.name)
    assert registry.current() == first
    assert {row["version"]: row["status"] for row in list_models(served_settings).versions} == {
        first.name: "production", second.name: "retired"}
    with pytest.raises(NothingToRollBack):
        roll_back_model(served_settings)
    with pytest.raises(UnknownVersion, match="no-such-version"):
        promote_model(served_settings, "no-such-version")
