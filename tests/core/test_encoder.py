"""The shared encoder stack: where the encoder comes from, and how token vectors become one sentence vector."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bot.settings import Settings
from core.encoder import EncoderNotFound, mean_pool, resolve_encoder_path


def test_missing_encoder_folder_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(EncoderNotFound, match="nowhere"):
        resolve_encoder_path(tmp_path / "nowhere")


def test_the_setting_overrides_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPLINE_ENCODER_PATH", str(tmp_path / "elsewhere"))
    with pytest.raises(EncoderNotFound, match=r"elsewhere.*HELPLINE_ENCODER_PATH"):
        resolve_encoder_path(Settings().encoder_path)
    monkeypatch.delenv("HELPLINE_ENCODER_PATH")
    assert (resolve_encoder_path(Settings().encoder_path) / "config.json").is_file()


def test_mean_pool_ignores_padding() -> None:
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert torch.equal(mean_pool(hidden, mask), torch.tensor([[2.0, 3.0]]))
