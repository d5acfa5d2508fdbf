"""The sentence encoder retrieval and training share: unit vectors, stable batching, safe across threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from core.encoder import EncoderNotFound, default_encoder_path, resolve_device
from core.sentence_encoder import SentenceEncoder


def test_vectors_are_unit_float32_of_the_model_dim(encoder: SentenceEncoder) -> None:
    vectors = encoder.encode(["How do I reset my password?", "Where is my parcel?"])
    assert vectors.shape == (2, encoder.dim) == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_paraphrase_is_closer_than_another_topic(encoder: SentenceEncoder) -> None:
    question, paraphrase, other = encoder.encode(
        ["How do I reset my password?", "I forgot my password, what now?", "Do you ship to Norway?"]
    )
    assert question @ paraphrase > 0.6 > question @ other


def test_batching_keeps_the_callers_order(encoder: SentenceEncoder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoder, "batch_size", 3)  # several batches, each sorted by length
    texts = [f"question {i} " + "word " * (i * 7 % 11) for i in range(10)]
    together = encoder.encode(texts)
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_empty_input_gives_an_empty_matrix(encoder: SentenceEncoder) -> None:
    assert encoder.encode([]).shape == (0, encoder.dim)


def test_a_single_string_is_refused(encoder: SentenceEncoder) -> None:
    with pytest.raises(TypeError):
        encoder.encode("not a list")


def test_concurrent_calls_give_the_same_vectors(encoder: SentenceEncoder) -> None:
    texts = ["Which payment methods do you accept?", "Can I return a gift?"]
    expected = encoder.encode(texts)
    results: list[np.ndarray] = []
    threads = [threading.Thread(target=lambda: results.append(encoder.encode(texts))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    for result in results:
        np.testing.assert_allclose(result, expected, atol=1e-6)


def test_missing_path_is_a_quick_named_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-encoder"
    started = time.monotonic()
    with pytest.raises(EncoderNotFound) as info:
        SentenceEncoder(missing)
    assert time.monotonic() - started < 1.0
    assert str(missing) in str(info.value) and "HELPLINE_ENCODER_PATH" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)


def test_a_folder_without_weights_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(EncoderNotFound, match="no model weights"):
        SentenceEncoder(tmp_path)


def test_default_path_is_the_bundled_model() -> None:
    assert (default_encoder_path() / "config.json").is_file()


def test_device_explicit_wins_else_cuda_when_available() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    assert resolve_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
