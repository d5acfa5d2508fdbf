"""Sentence embeddings on ONNX Runtime: the encoder graph (mean pooling and L2 norm inside it), texts in.

The graph is made by ``training.onnx_export``; this module only runs it, so serving needs no torch
forward pass. Same tokenizer, same length-sorted batches and the same unit vectors as ``SentenceEncoder``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from core.encoder import EncoderNotFound, length_batches, no_transformers_bars, resolve_encoder_path

INPUTS = ("input_ids", "attention_mask")  # the graphs' input names, int64 (batch, sequence)


class GraphLoadFailed(RuntimeError):
    """An ONNX graph that ONNX Runtime cannot open (missing, truncated, not ONNX)."""


def ort_session(graph: Path, threads: int) -> ort.InferenceSession:
    """A CPU session on ``threads`` intra-op threads and one inter-op thread (one graph runs at a time)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # No memory arena: with ever-changing batch shapes it grew by ~250 MB a session and kept it, for no speed
    # gain measured at these sizes.
    options.enable_cpu_mem_arena = False
    # No spinning: a pool thread spins on its core after each run waiting for the next. With two sessions (the
    # classifier and the encoder) their pools spun against each other and the server's own threads: a busy
    # server's CPU per message tripled. One message alone runs ~1 ms slower on 2 threads without it.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types (NoSuchFile, InvalidProtobuf, Fail, ...)
        raise GraphLoadFailed(f"cannot open ONNX graph {graph}: {exc}") from exc


def load_tokenizer(folder: Path) -> PreTrainedTokenizerBase:
    """The tokenizer of an encoder folder, without loading its weights (offline: local files only)."""
    try:
        with no_transformers_bars():
            return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except OSError as exc:
        raise EncoderNotFound(folder, f"has no loadable tokenizer ({exc})") from exc


def run_graph(session: ort.InferenceSession, tokenizer: PreTrainedTokenizerBase, texts: list[str],
              max_length: int) -> np.ndarray:
    """The graph's first output for one padded batch of texts."""
    batch = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="np")
    feeds = {name: np.asarray(batch[name], dtype=np.int64) for name in INPUTS}
    output: Any = session.run(None, feeds)[0]
    return np.asarray(output, dtype=np.float32)


class OnnxSentenceEncoder:
    """Unit-length float32 vectors from the exported encoder graph; a drop-in ``TextEncoder``."""

    def __init__(
        self,
        graph: Path,
        path: Path | str | None = None,
        threads: int = 1,
        batch_size: int = 64,
        max_length: int = 256,
    ) -> None:
        if batch_size < 1 or max_length < 1:
            raise ValueError("batch_size and max_length must be positive")
        self.path = resolve_encoder_path(path)  # the encoder folder: its tokenizer, and its name in index metadata
        self.graph = Path(graph)
        self.batch_size = batch_size
        self.max_length = max_length
        self._tokenizer = load_tokenizer(self.path)
        self._session = ort_session(self.graph, threads)
        self.dim: int = int(run_graph(self._session, self._tokenizer, ["dimension"], max_length).shape[1])
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OnnxSentenceEncoder(graph={str(self.graph)!r}, dim={self.dim})"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` as an (n, dim) float32 array of unit vectors."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one string")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with self._lock:
            for rows in length_batches(texts, self.batch_size):  # results go back in the caller's order
                out[rows] = run_graph(self._session, self._tokenizer, [texts[i] for i in rows], self.max_length)
        return out
