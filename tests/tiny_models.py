"""Model versions for the hot-reload tests: a data dir of its own, a tiny real model, a broken folder."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

from bot.learning import catalog
from bot.store.transcripts import TranscriptStore
from training.registry import ModelRegistry

# A second model with its own label names, so every answer it gives is told apart from the demo model's.
TINY_INTENTS = {
    "salutation": ["hello", "hi there", "hey", "good morning", "hello, anyone there?", "hi!", "greetings",
                   "hey hello"],
    "parcel_status": ["where is my parcel", "my order has not arrived", "track my order",
                      "when will my package come", "order status please", "where is my delivery",
                      "has my order shipped", "is my parcel late"],
    "farewell": ["bye", "goodbye", "see you", "thanks, bye", "that's all, bye", "cheers, goodbye",
                 "have a nice day", "talk later"],
}

# the seed intents under the wrong names: a model trained on this is worse on purpose
SWAPPED = {"salutation": "farewell", "farewell": "parcel_status", "parcel_status": "salutation"}


def write_intents(path: Path, rows: dict[str, list[str]], rename: dict[str, str] | None = None) -> Path:
    """A ``text,intent`` CSV of ``rows`` (label -> texts), labels renamed by ``rename``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "intent"])
        writer.writerows((text, (rename or {}).get(label, label)) for label, texts in rows.items() for text in texts)
    return path


def fresh_data_dir(demo_data_dir: Path, target: Path) -> tuple[Path, str]:
    """A data dir like the demo one (company, FAQ, the demo model as the current version) that a test may change.

    Model files are hard-linked, never written to, so the copy costs nothing.
    """
    target.mkdir(parents=True)
    shutil.copyfile(demo_data_dir / "company.json", target / "company.json")
    shutil.copytree(demo_data_dir / "faq", target / "faq")
    source = ModelRegistry(demo_data_dir / "models").current()
    assert source is not None
    registry = ModelRegistry(target / "models")
    registry.root.mkdir()
    shutil.copytree(source, registry.root / source.name, copy_function=os.link)
    registry.promote(source.name)
    return target, source.name


def train_tiny_model(registry: ModelRegistry) -> tuple[str, list[str]]:
    """Really fine-tune a small model (1 epoch, 32 tokens) into a new registry version; (version, labels)."""
    from core.encoder import default_encoder_path
    from training.args import TrainingArguments
    from training.data import Example
    from training.trainer import train

    examples = [Example(text, label) for label, texts in TINY_INTENTS.items() for text in texts]
    path = registry.new_version_path()
    args = TrainingArguments(epochs=1, max_length=32, batch_size=8, seed=0, patience=0)
    train(examples, args, default_encoder_path(), path, progress=False)
    return path.name, sorted(TINY_INTENTS)


def broken_version(registry: ModelRegistry, like: str) -> str:
    """A version folder that looks complete (config.json and all) but whose weights are garbage."""
    source, path = registry.root / like, registry.new_version_path()
    shutil.copytree(source, path, copy_function=os.link)
    for weights in [path / "head.safetensors", *(path / "encoder").glob("*.safetensors")]:
        weights.unlink()  # a hard link: unlink first so the source model keeps its weights
        weights.write_bytes(b"not a safetensors file")
    return path.name


def promote(store: TranscriptStore, registry: ModelRegistry, version: str) -> None:
    """Make ``version`` production through the catalog (row and CURRENT), as `helpline models promote` does."""
    catalog.promote(store, registry, version, {"promote": True, "forced": True, "reasons": ["test"]})
