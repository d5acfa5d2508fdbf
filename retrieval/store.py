"""The company's FAQ on disk (``<data_dir>/faq``): atomic ingest and additions, and a retriever over it."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from core.sentence_encoder import QueuedEncoder, TextEncoder
from retrieval.faq import FaqEntry, entry_text, faq_version, load_faq
from retrieval.index import INDEX_FILE, FaissFaqIndex, FaqIndex, Hit

FAQ_FILE = "faq.jsonl"
META_FILE = "meta.json"
STALE_AFTER_S = 600


class FaqNotFound(FileNotFoundError):
    """No FAQ has been ingested in the store's directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        super().__init__(f"no FAQ ingested in {directory}; run `helpline faq ingest FILE`")


class FaqEntryExists(ValueError):
    """An added entry has the id or the question of one already in the FAQ."""

    def __init__(self, faq_id: str) -> None:
        self.faq_id = faq_id  # the entry already there
        super().__init__(f"the FAQ already has an entry with this id or question ({faq_id!r})")


@dataclass(frozen=True)
class IngestReport:
    """What an ingest stored."""

    count: int
    version: str
    categories: list[str]


class FaqRetriever:
    """Answers queries with the closest FAQ entries."""

    def __init__(self, entries: Sequence[FaqEntry], index: FaqIndex, encoder: TextEncoder, version: str):
        self.entries = list(entries)
        self.index = index
        self.encoder = encoder
        self.version = version
        self.categories = {e.category for e in self.entries if e.category is not None}
        self._by_id = {e.id: e for e in self.entries}

    @classmethod
    def from_entries(
        cls, entries: Sequence[FaqEntry], encoder: TextEncoder, use_gpu: bool | None = None
    ) -> FaqRetriever:
        """Embed and index ``entries`` in memory."""
        index = FaissFaqIndex.build(entries, encoder.encode([entry_text(e) for e in entries]), use_gpu)
        return cls(entries, index, encoder, faq_version(entries))

    def retrieve(self, query: str | np.ndarray, k: int = 5, category: str | None = None) -> list[Hit]:
        """The ``k`` entries closest to ``query`` (a text, or its ``embed``), best first, optionally only
        from ``category``."""
        vector = self.embed(query) if isinstance(query, str) else query
        return self.index.search(vector, k, category)

    def embed(self, query: str) -> np.ndarray:
        """The query's vector, to search several ways (a category, then everything) with one encoding."""
        return np.asarray(self.encoder.encode([query])[0])

    def embed_soon(self, query: str) -> Callable[[], np.ndarray]:
        """``embed``, started now where the encoder can run beside other work (on the inference worker, next
        to the classifier); the returned function gives the vector, waiting for it. Elsewhere the encoding
        runs on the first call."""
        if isinstance(self.encoder, QueuedEncoder):
            pending = self.encoder.encode_soon([query])
            return cache(lambda: np.asarray(pending()[0]))
        return cache(lambda: self.embed(query))

    def retrieve_many(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """``retrieve`` for many queries at once (batched encoding and search)."""
        if not queries:
            return []
        return self.index.search_many(self.encoder.encode(queries), k)

    def entry(self, faq_id: str) -> FaqEntry | None:
        return self._by_id.get(faq_id)


class FaqStore:
    """One FAQ folder: ``faq.jsonl`` (the entries), ``index.faiss`` and ``meta.json``."""

    _ingest_lock = threading.Lock()

    def __init__(self, directory: Path, encoder: TextEncoder, use_gpu: bool | None = None):
        self.directory = Path(directory)
        self.encoder = encoder
        self.use_gpu = use_gpu
        # Where the previous FAQ waits during the swap; restored if a crash came in between.
        self._backup = self.directory.with_name(f".{self.directory.name}.old")

    def exists(self) -> bool:
        return self._live() is not None

    def version(self) -> str | None:
        """The ingested FAQ's version, or None when nothing is ingested."""
        live = self._live()
        if live is None:
            return None
        meta = _read_meta(live)
        if isinstance(meta.get("faq_version"), str):
            return str(meta["faq_version"])
        return faq_version(load_faq(live / FAQ_FILE))

    def ingest(self, source: Path) -> IngestReport:
        """Validate ``source``, embed it and replace the stored FAQ in one atomic swap."""
        entries = load_faq(Path(source))  # raises before anything on disk changes
        embeddings = self.encoder.encode([entry_text(e) for e in entries])
        with self._locked():
            return self._write(entries, embeddings)

    def add_entry(self, entry: FaqEntry) -> IngestReport:
        """Append ``entry`` to the stored FAQ in one atomic swap; FaqEntryExists if its id is taken.

        The stored vectors are reused when they match the entries, so only the new entry is embedded.
        """
        # stored as the file loader would read it back, so the version on disk matches this one
        entry = FaqEntry(entry.id.strip(), entry.question.strip(), entry.answer.strip(),
                         (entry.category or "").strip() or None)
        if not entry.id or not entry.question or not entry.answer:
            raise ValueError("an FAQ entry needs an id, a question and an answer")
        with self._locked():
            self._recover()
            live = self._live()
            if live is None:
                raise FaqNotFound(self.directory)
            entries = load_faq(live / FAQ_FILE)
            for e in entries:
                if e.id == entry.id or same_question(e.question, entry.question):
                    raise FaqEntryExists(e.id)
            stored = self._stored_vectors(live, entries)
            if stored is None:
                stored = self.encoder.encode([entry_text(e) for e in entries])
            added = self.encoder.encode([entry_text(entry)])
            return self._write([*entries, entry], np.vstack([stored, added]))

    def _write(self, entries: list[FaqEntry], embeddings: np.ndarray) -> IngestReport:
        """Stage the entries, their index and meta beside the store, then swap them in (lock held)."""
        index = FaissFaqIndex.build(entries, embeddings, False)
        version = faq_version(entries)
        parent = self.directory.parent
        self._recover()
        for stale in parent.glob(f".{self.directory.name}.tmp-*"):
            # Left by a crashed write; a young one may belong to another process still writing.
            if time.time() - stale.stat().st_mtime > STALE_AFTER_S:
                shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{self.directory.name}.tmp-", dir=parent))
        try:
            _write_jsonl(staging / FAQ_FILE, entries)
            index.save(staging)
            _write_json(staging / META_FILE, self._meta(version, len(entries)))
            self._swap_in(staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return IngestReport(len(entries), version, sorted({e.category for e in entries if e.category}))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store's write lock: one writer per process (thread lock) and per host (flock on the parent)."""
        parent = self.directory.parent
        parent.mkdir(parents=True, exist_ok=True)
        with self._ingest_lock:
            fd = os.open(parent, os.O_RDONLY)  # a lock on the folder itself, so no lock file lies around
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the flock

    def _stored_vectors(self, live: Path, entries: list[FaqEntry]) -> np.ndarray | None:
        """The saved index's vectors when they belong to ``entries`` (same FAQ, same encoder), else None."""
        if _read_meta(live) != self._meta(faq_version(entries), len(entries)):
            return None
        try:
            cpu_index = faiss.read_index(str(live / INDEX_FILE))
        except (OSError, RuntimeError):
            return None
        if cpu_index.ntotal != len(entries) or cpu_index.d != self.encoder.dim:
            return None
        return np.asarray(cpu_index.reconstruct_n(0, cpu_index.ntotal), dtype=np.float32)

    def load(self) -> FaqRetriever:
        """A retriever over the stored FAQ, rebuilding its index if missing or stale."""
        live = self._live()
        if live is None:
            raise FaqNotFound(self.directory)
        entries = load_faq(live / FAQ_FILE)
        version = faq_version(entries)
        index: FaissFaqIndex | None = None
        if _read_meta(live) == self._meta(version, len(entries)):
            try:
                index = FaissFaqIndex.load(live, entries, self.use_gpu)
            except (OSError, RuntimeError, ValueError):
                index = None  # unreadable or mismatched: rebuilt below
        if index is None:
            index = self._rebuild(live, entries, version)
        return FaqRetriever(entries, index, self.encoder, version)

    def _rebuild(self, live: Path, entries: list[FaqEntry], version: str) -> FaissFaqIndex:
        embeddings = self.encoder.encode([entry_text(e) for e in entries])
        index = FaissFaqIndex.build(entries, embeddings, self.use_gpu)
        # Write beside the live files, then rename over them, so readers never see half a file.
        try:
            staging = Path(tempfile.mkdtemp(prefix=".rebuild-", dir=live))
            try:
                index.save(staging)
                _write_json(staging / META_FILE, self._meta(version, len(entries)))
                os.replace(staging / INDEX_FILE, live / INDEX_FILE)
                os.replace(staging / META_FILE, live / META_FILE)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        except OSError:
            pass  # a read-only or concurrently replaced folder: serve the index from memory anyway
        return index

    def _meta(self, version: str, count: int) -> dict[str, Any]:
        return {"faq_version": version, "encoder": self.encoder.path.name, "dim": self.encoder.dim, "count": count}

    def _swap_in(self, staging: Path) -> None:
        """Make ``staging`` the store directory with two renames (a directory cannot be replaced in one)."""
        if self.directory.exists():
            os.rename(self.directory, self._backup)
        os.rename(staging, self.directory)
        shutil.rmtree(self._backup, ignore_errors=True)

    def _live(self) -> Path | None:
        """The folder holding the current FAQ: the store, or its backup while a swap is under way."""
        for folder in (self.directory, self._backup):
            if (folder / FAQ_FILE).is_file():
                return folder
        return None

    def _recover(self) -> None:
        """Finish an interrupted swap: put the previous FAQ back if the new one never arrived."""
        if self._backup.exists():
            if self.directory.exists():
                shutil.rmtree(self._backup, ignore_errors=True)
            else:
                os.rename(self._backup, self.directory)


def same_question(a: str, b: str) -> bool:
    """Whether two FAQ questions are the same, whatever their case and spacing."""
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def _read_meta(folder: Path) -> dict[str, Any]:
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _write_jsonl(path: Path, entries: Sequence[FaqEntry]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for e in entries:
            row = {"id": e.id, "question": e.question, "answer": e.answer, "category": e.category}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
