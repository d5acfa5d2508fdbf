"""ONNX graphs of a model folder's classifier and of the base sentence encoder, float32 and int8.

A graph lives beside what it was made from (``<model folder>/onnx/``, and a folder the caller names for the
encoder) with a manifest holding the SHA-256 of the weights it came from and of each graph file, so a folder
whose weights changed, or whose graph was damaged, is exported again instead of served stale.

Export: torch.onnx's dynamo exporter; if it fails, or its graph disagrees with torch, the TorchScript
exporter. int8: ONNX Runtime's dynamic quantisation of the transformer's MatMul weights, per output channel
(per-tensor scales cost the encoder ~0.03 in cosine to float32, per-channel ~0.006); the embeddings and the
small head stay float32. onnxscript's ORT fusions (fused Attention) were tried and left out: no faster in
float32, where ONNX Runtime fuses at load anyway, and slower in int8, whose attention projections then stay
float32.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from torch import nn

from core.encoder import load_encoder, mean_pool, resolve_encoder_path
from core.onnx_encoder import INPUTS, ort_session
from training.model import ENCODER_DIR, HEAD_FILE, IntentClassifier, ModelNotFound, read_config
from training.network import IntentNetwork

log = logging.getLogger(__name__)

GRAPH_DIR = "onnx"  # sub-folder of a model folder holding its graphs
CLASSIFIER = ("classifier.onnx", "classifier.int8.onnx")  # (float32, int8) file names
ENCODER = ("encoder.onnx", "encoder.int8.onnx")
MANIFEST = "manifest.json"
FORMAT = "helpline-onnx"
INT8_RECIPE = "dynamic, per output channel: the transformer's MatMul weights; embeddings and head float32"
FORMAT_VERSION = 1  # bump when the export changes (or edit INT8_RECIPE): older graphs are then made again
TOLERANCE = 1e-3  # largest |torch - onnx| difference in an output accepted from a float32 export
EXAMPLE_TEXTS = ["hello", "where is my order? it has not arrived and it is late"]  # two lengths, padded


class GraphExportFailed(RuntimeError):
    """A model could not be exported to ONNX (or its graph disagreed with torch)."""


@dataclass(frozen=True)
class GraphSpec:
    """What one export writes: two graphs in ``target``, fingerprinted by the ``sources`` they come from."""

    what: str  # "classifier" or "encoder", for messages
    target: Path
    names: tuple[str, str]
    sources: tuple[Path, ...]
    output: str  # the graph's output name

    def path(self, int8: bool) -> Path:
        return self.target / self.names[int(int8)]


class _Probabilities(nn.Module):
    """The classifier network ending in its softmax: token ids in, intent probabilities out."""

    def __init__(self, network: IntentNetwork) -> None:
        super().__init__()
        self.network = network

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.network(input_ids, attention_mask), dim=-1)


class _Embeddings(nn.Module):
    """The encoder, mean-pooled and L2-normalised, as ``SentenceEncoder`` computes it."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return nn.functional.normalize(mean_pool(hidden, attention_mask), p=2, dim=1)


def classifier_spec(folder: Path) -> GraphSpec:
    encoder = folder / ENCODER_DIR
    weights = [encoder / name for name in ("model.safetensors", "pytorch_model.bin") if (encoder / name).is_file()]
    sources = (folder / "config.json", folder / HEAD_FILE, encoder / "config.json", *weights)
    return GraphSpec("classifier", folder / GRAPH_DIR, CLASSIFIER, sources, "probabilities")


def encoder_spec(encoder_path: Path, target: Path) -> GraphSpec:
    weights = [encoder_path / n for n in ("model.safetensors", "pytorch_model.bin") if (encoder_path / n).is_file()]
    return GraphSpec("encoder", target, ENCODER, (encoder_path / "config.json", *weights), "embeddings")


def classifier_graph(folder: Path | str, int8: bool, force: bool = False) -> Path:
    """The model folder's classifier graph, exported first when missing, stale or damaged (or ``force``)."""
    folder = Path(folder)
    read_config(folder)  # ModelNotFound for a folder that is no model, before anything is written into it

    def build() -> tuple[nn.Module, Any]:
        classifier = IntentClassifier.load(folder, device="cpu")
        return _Probabilities(classifier.network), classifier.tokenizer

    return ensure(classifier_spec(folder), int8, build, force)


def encoder_graph(encoder_path: Path | str | None, target: Path, int8: bool, force: bool = False) -> Path:
    """The sentence encoder's graph in ``target``, exported first when missing, stale or damaged."""
    source = resolve_encoder_path(encoder_path)

    def build() -> tuple[nn.Module, Any]:
        tokenizer, encoder = load_encoder(source)
        return _Embeddings(encoder), tokenizer

    return ensure(encoder_spec(source, target), int8, build, force)


def ensure(spec: GraphSpec, int8: bool, build: Callable[[], tuple[nn.Module, Any]], force: bool = False) -> Path:
    """``spec``'s graph when its manifest vouches for it, else both graphs exported anew (one exporter at once)."""
    try:
        spec.target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GraphExportFailed(f"cannot write the {spec.what} graph folder {spec.target}: {exc}") from exc
    with _exclusive(spec.target):
        if force or not is_current(spec, int8):
            export(spec, build)
    return spec.path(int8)


def is_current(spec: GraphSpec, int8: bool) -> bool:
    """Whether the manifest matches the sources' weights and the graph file's bytes."""
    try:
        manifest = json.loads((spec.target / MANIFEST).read_text())
        name = spec.names[int(int8)]
        return bool(manifest.get("format") == FORMAT and manifest.get("format_version") == FORMAT_VERSION
                    and manifest.get("int8") == INT8_RECIPE  # graphs of another recipe are made again
                    and manifest.get("source") == fingerprint(spec.sources)
                    and manifest.get("graphs", {}).get(name) == sha256(spec.target / name))
    except (OSError, ValueError):
        return False


def export(spec: GraphSpec, build: Callable[[], tuple[nn.Module, Any]]) -> None:
    """Write both graphs and then the manifest, each through a temporary file and an atomic rename."""
    log.info("exporting the %s to ONNX in %s", spec.what, spec.target)
    staged = {name: spec.target / f".{name}.tmp-{secrets.token_hex(4)}" for name in spec.names}
    try:
        try:
            module, tokenizer = build()
        except ModelNotFound:
            raise
        except Exception as exc:
            raise GraphExportFailed(f"cannot export the {spec.what} to {spec.target}: its weights do not load "
                                    f"({type(exc).__name__}: {exc})") from exc
        fp32, int8 = (staged[name] for name in spec.names)
        try:
            exporter, difference = export_graph(module.eval(), tokenizer, fp32, spec.output)
        except GraphExportFailed as exc:
            raise GraphExportFailed(f"cannot export the {spec.what} to {spec.target}: {exc}") from exc
        try:
            quantize(fp32, int8)
            ort_session(int8, 1)  # the int8 graph must open too
        except Exception as exc:
            raise GraphExportFailed(f"cannot quantise the {spec.what} in {spec.target}: "
                                    f"{type(exc).__name__}: {exc}") from exc
        graphs = {name: sha256(path) for name, path in staged.items()}
        for name, path in staged.items():
            os.replace(path, spec.target / name)
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "source": fingerprint(spec.sources),
                    "graphs": graphs, "exporter": exporter, "max_abs_difference_fp32": difference,
                    "torch": torch.__version__, "int8": INT8_RECIPE}
        temporary = spec.target / f".{MANIFEST}.tmp-{secrets.token_hex(4)}"
        temporary.write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(temporary, spec.target / MANIFEST)
    finally:
        for path in staged.values():
            path.unlink(missing_ok=True)


def export_graph(module: nn.Module, tokenizer: Any, path: Path, output: str) -> tuple[str, float]:
    """Export ``module`` to ``path``: dynamo first, TorchScript when dynamo fails; (exporter, max |difference|)."""
    example = tokenizer(EXAMPLE_TEXTS, padding=True, return_tensors="pt")
    inputs = tuple(example[name] for name in INPUTS)
    with torch.inference_mode():
        expected = [module(*inputs).numpy(), module(*(tensor[:1, :3] for tensor in inputs)).numpy()]
    failures = []
    for exporter, run in (("dynamo", _dynamo), ("torchscript", _torchscript)):
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")  # both exporters warn a lot about tracing BERT; the check below counts
                run(module, inputs, path, output)
            difference = _difference(path, inputs, expected)
            if difference <= TOLERANCE:
                return exporter, difference
            failures.append(f"{exporter}: outputs differ from torch by {difference:.2g}")
        except Exception as exc:  # an exporter that cannot handle the model: try the next one
            failures.append(f"{exporter}: {type(exc).__name__}: {exc}")
        log.warning("ONNX export with %s failed: %s", exporter, failures[-1])
    raise GraphExportFailed(f"no exporter made a graph that agrees with torch ({'; '.join(failures)})")


def _dynamo(module: nn.Module, inputs: tuple[torch.Tensor, ...], path: Path, output: str) -> None:
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    with _quiet("torch.onnx._internal.exporter._registration", "torchvision is not installed"):
        program = torch.onnx.export(module, inputs, input_names=list(INPUTS), output_names=[output], dynamo=True,
                                    dynamic_shapes={name: {0: batch, 1: sequence} for name in INPUTS}, verbose=False)
    assert program is not None
    program.save(str(path), external_data=False)


def _torchscript(module: nn.Module, inputs: tuple[torch.Tensor, ...], path: Path, output: str) -> None:
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUTS}
    torch.onnx.export(module, inputs, str(path), input_names=list(INPUTS), output_names=[output], dynamo=False,
                      opset_version=17, dynamic_axes={**axes, output: {0: "batch"}})


def _difference(path: Path, inputs: tuple[torch.Tensor, ...], expected: list[np.ndarray]) -> float:
    """Largest |onnx - torch| over the example batch and a one-row, shorter batch (the shapes must be dynamic)."""
    session = ort_session(path, 1)
    batches = [inputs, tuple(tensor[:1, :3] for tensor in inputs)]
    outputs = [session.run(None, {n: t.numpy() for n, t in zip(INPUTS, batch, strict=True)})[0] for batch in batches]
    return max(float(np.abs(np.asarray(got) - want).max()) for got, want in zip(outputs, expected, strict=True))


def quantize(fp32: Path, int8: Path) -> None:
    """Dynamic int8 quantisation of the transformer's weights; the classification head is left float32."""
    graph = onnx.load(str(fp32)).graph
    head = [node.name for node in graph.node if node.op_type == "MatMul" and _in_head(node)]
    with _quiet("", "pre-processing before quantization"):  # onnxruntime's advice, on the root logger
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"], nodes_to_exclude=head)


def _in_head(node: onnx.NodeProto) -> bool:
    scopes = [prop.value for prop in node.metadata_props if prop.key == "namespace"]  # dynamo graphs
    return "/head/" in node.name or any("network.head:" in scope for scope in scopes)  # or TorchScript names


def fingerprint(files: tuple[Path, ...]) -> str:
    """One SHA-256 over the named files' names and bytes."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + sha256(path).encode())
    return digest.hexdigest()


def sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """One exporter at a time per folder, across processes (replicas start together)."""
    try:
        handle = (folder / ".export.lock").open("a")
    except OSError:  # a read-only folder: nobody can export into it, so nobody races
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def _quiet(logger: str, message: str) -> Iterator[None]:
    """Drop ``logger``'s records that contain ``message`` (advice that does not apply here)."""

    def keep(record: logging.LogRecord) -> bool:
        return message not in record.getMessage()

    target = logging.getLogger(logger)
    target.addFilter(keep)
    try:
        yield
    finally:
        target.removeFilter(keep)
