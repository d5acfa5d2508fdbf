"""The sentence encoder on ONNX Runtime: the vectors of the PyTorch encoder, the same batching, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.onnx_encoder import GraphLoadFailed, OnnxSentenceEncoder
from core.sentence_encoder import SentenceEncoder
from training.onnx_export import ENCODER, MANIFEST, encoder_graph

# Held to the retriever's needs: fp32 is the same arithmetic (cosine to torch measured at 1 - 1e-7), int8
# rounds every weight (measured mean cosine 0.994, lowest 0.99 on StackFAQ queries).
FP32_COSINE, INT8_MEAN_COSINE, INT8_MIN_COSINE = 0.9999, 0.98, 0.95


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("encoders") / "minilm"
    encoder_graph(None, target, int8=False)
    return target


@pytest.fixture(scope="module")
def texts(demo_dir: Path) -> list[str]:
    """The demo FAQ's questions and answers: short and long texts."""
    rows = [json.loads(line) for line in (demo_dir / "faq.jsonl").read_text().splitlines() if line.strip()]
    return [row["question"] for row in rows] + [row["answer"] for row in rows[:20]]


def test_fp32_vectors_are_the_torch_vectors(graphs: Path, encoder: SentenceEncoder, texts: list[str]) -> None:
    onnx_encoder = OnnxSentenceEncoder(graphs / ENCODER[0])
    assert onnx_encoder.dim == encoder.dim and onnx_encoder.path == encoder.path
    ours, theirs = onnx_encoder.encode(texts), encoder.encode(texts)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert (ours * theirs).sum(axis=1).min() > FP32_COSINE


def test_int8_vectors_stay_close(graphs: Path, encoder: SentenceEncoder, texts: list[str]) -> None:
    cosine = (OnnxSentenceEncoder(graphs / ENCODER[1]).encode(texts) * encoder.encode(texts)).sum(axis=1)
    assert cosine.mean() > INT8_MEAN_COSINE and cosine.min() > INT8_MIN_COSINE


def test_batching_keeps_the_callers_order(graphs: Path) -> None:
    onnx_encoder = OnnxSentenceEncoder(graphs / ENCODER[0], batch_size=3)  # several batches, each sorted by length
    texts = [f"question {i} " + "word " * (i * 7 % 11) for i in range(10)]
    together = onnx_encoder.encode(texts)
    alone = np.stack([onnx_encoder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert onnx_encoder.encode([]).shape == (0, onnx_encoder.dim)
    with pytest.raises(TypeError):
        onnx_encoder.encode("one string")


def test_a_graph_that_is_not_there_or_not_onnx_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GraphLoadFailed, match=r"cannot open ONNX graph .*absent\.onnx"):
        OnnxSentenceEncoder(tmp_path / "absent.onnx")
    (tmp_path / "garbage.onnx").write_bytes(b"not a graph")
    with pytest.raises(GraphLoadFailed, match=r"garbage\.onnx"):
        OnnxSentenceEncoder(tmp_path / "garbage.onnx")


def test_a_damaged_encoder_graph_is_exported_again(graphs: Path, tmp_path: Path) -> None:
    target = tmp_path / "minilm"
    target.mkdir()
    for name in (*ENCODER, MANIFEST):  # a copy of the exported folder
        (target / name).write_bytes((graphs / name).read_bytes())
    before = (target / ENCODER[1]).stat().st_mtime_ns
    assert encoder_graph(None, target, int8=True) == target / ENCODER[1]  # current: left alone
    assert (target / ENCODER[1]).stat().st_mtime_ns == before
    (target / ENCODER[1]).write_bytes(b"damaged")
    path = encoder_graph(None, target, int8=True)
    assert OnnxSentenceEncoder(path).encode(["hello"]).shape == (1, 384)
