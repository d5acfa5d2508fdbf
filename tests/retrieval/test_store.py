from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.sentence_encoder import SentenceEncoder
from retrieval.faq import FaqFormatError
from retrieval.store import FaqNotFound, FaqRetriever, FaqStore
from tests.retrieval.faqs import SHOP_FAQ, snapshot, write_jsonl


@pytest.fixture
def store(tmp_path: Path, encoder: SentenceEncoder) -> FaqStore:
    store = FaqStore(tmp_path / "data" / "faq", encoder, use_gpu=False)
    store.ingest(write_jsonl(tmp_path / "shop.jsonl", SHOP_FAQ))
    return store


def test_ingest_reports_and_writes_the_folder(store: FaqStore) -> None:
    assert store.exists()
    meta = json.loads((store.directory / "meta.json").read_text())
    assert meta["count"] == len(SHOP_FAQ) and meta["dim"] == 384
    assert meta["faq_version"] == store.version()
    assert sorted(p.name for p in store.directory.iterdir()) == ["faq.jsonl", "index.faiss", "meta.json"]
    assert sorted(p.name for p in store.directory.parent.iterdir()) == ["faq"]


def test_ingest_report(tmp_path: Path, encoder: SentenceEncoder) -> None:
    report = FaqStore(tmp_path / "faq", encoder).ingest(write_jsonl(tmp_path / "shop.jsonl", SHOP_FAQ))
    assert report.count == 8 and len(report.version) == 16
    assert report.categories == ["account", "payments", "shipping"]


def test_a_paraphrase_finds_the_right_entry(store: FaqStore) -> None:
    retriever = store.load()
    assert retriever.retrieve("I can't remember my password")[0].entry.id == "account-password"
    assert retriever.retrieve("Can I pay with PayPal?", k=1)[0].entry.id == "pay-methods"
    ranked = retriever.retrieve_many(["how many days until my parcel arrives", "close my account"], k=3)
    assert [row[0].entry.id for row in ranked] == ["ship-time", "account-delete"]
    assert retriever.retrieve("delivery to Oslo?", k=3)[0].score > 0.3


def test_category_restriction_returns_that_categorys_best(store: FaqStore) -> None:
    retriever = store.load()
    assert retriever.categories == {"payments", "shipping", "account"}
    hits = retriever.retrieve("I can't remember my password", k=2, category="payments")
    assert [h.entry.category for h in hits] == ["payments", "payments"]
    every_payment = retriever.retrieve("I can't remember my password", k=10, category="payments")
    assert hits == every_payment[:2] and len(every_payment) == 3
    assert retriever.retrieve("money back for my return", k=1, category="payments")[0].entry.id == "pay-refund"


def test_entry_lookup(store: FaqStore) -> None:
    retriever = store.load()
    entry = retriever.entry("ship-abroad")
    assert entry is not None and entry.category == "shipping"
    assert retriever.entry("nope") is None


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.csv", "question,answer\nHow do I pay?,By card.\nWhere is my order?,\n",
         "bad.csv line 3: missing 'answer'"),
        ("bad.jsonl", '{"question": "Q?", "answer": "A."}\n{"question": "R?"}\n',
         "bad.jsonl line 2: missing 'answer'"),
    ],
)
def test_a_bad_file_changes_nothing_on_disk(store: FaqStore, tmp_path: Path, name: str, text: str,
                                            message: str) -> None:
    before = snapshot(store.directory.parent)
    (tmp_path / name).write_text(text)
    with pytest.raises(FaqFormatError) as info:
        store.ingest(tmp_path / name)
    assert str(info.value) == message
    assert snapshot(store.directory.parent) == before


def test_a_bad_first_ingest_creates_nothing(tmp_path: Path, encoder: SentenceEncoder) -> None:
    (tmp_path / "bad.csv").write_text("question,answer\nQ?,\n")
    store = FaqStore(tmp_path / "data" / "faq", encoder)
    with pytest.raises(FaqFormatError):
        store.ingest(tmp_path / "bad.csv")
    assert not (tmp_path / "data").exists()
    assert not store.exists() and store.version() is None


def test_reingest_changes_version_and_answers(store: FaqStore, tmp_path: Path) -> None:
    old_version = store.version()
    changed = [dict(row) for row in SHOP_FAQ]
    changed[0]["answer"] = "Only bank transfer, sorry."
    report = store.ingest(write_jsonl(tmp_path / "changed.jsonl", changed))
    assert report.version == store.version() != old_version
    retriever = store.load()
    assert retriever.version == report.version
    best = retriever.retrieve("Which payment methods do you accept?", k=1)[0]
    assert best.entry.answer == "Only bank transfer, sorry."
    assert sorted(p.name for p in store.directory.parent.iterdir()) == ["faq"]


def test_index_is_rebuilt_when_deleted(store: FaqStore) -> None:
    expected = store.load().retrieve("parcel arrival time", k=3)
    (store.directory / "index.faiss").unlink()
    assert store.load().retrieve("parcel arrival time", k=3) == expected
    assert (store.directory / "index.faiss").is_file()


def test_index_is_rebuilt_when_meta_does_not_match(store: FaqStore) -> None:
    meta_path = store.directory / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "faq_version": "0" * 16, "dim": 12}))
    index_before = (store.directory / "index.faiss").stat().st_mtime_ns
    retriever = store.load()
    assert json.loads(meta_path.read_text()) == meta
    assert (store.directory / "index.faiss").stat().st_mtime_ns != index_before
    assert retriever.retrieve("reset my password", k=1)[0].entry.id == "account-password"


def test_nothing_ingested_is_a_named_error(tmp_path: Path, encoder: SentenceEncoder) -> None:
    store = FaqStore(tmp_path / "faq", encoder)
    with pytest.raises(FaqNotFound, match=r"no FAQ ingested in .*faq; run `helpline faq ingest FILE`"):
        store.load()
    assert not store.exists() and store.version() is None


def test_an_interrupted_swap_keeps_the_previous_faq(store: FaqStore, tmp_path: Path) -> None:
    version = store.version()
    # A crash between the two renames of a swap leaves only the backup.
    os.rename(store.directory, store.directory.with_name(".faq.old"))
    assert store.exists() and store.version() == version
    assert store.load().retrieve("reset my password", k=1)[0].entry.id == "account-password"
    report = store.ingest(write_jsonl(tmp_path / "again.jsonl", SHOP_FAQ[:3]))
    assert report.count == 3 and sorted(p.name for p in store.directory.parent.iterdir()) == ["faq"]


def test_from_entries_builds_in_memory(encoder: SentenceEncoder, tmp_path: Path) -> None:
    from retrieval.faq import load_faq

    entries = load_faq(write_jsonl(tmp_path / "shop.jsonl", SHOP_FAQ))
    retriever = FaqRetriever.from_entries(entries, encoder, use_gpu=False)
    assert retriever.retrieve("opening times of support", k=1)[0].entry.id == "opening-hours"
    assert retriever.retrieve_many([]) == []


def test_ingest_clears_staging_folders_left_by_a_crash(store: FaqStore, tmp_path: Path) -> None:
    old, young = store.directory.with_name(".faq.tmp-old"), store.directory.with_name(".faq.tmp-young")
    for folder in (old, young):
        folder.mkdir()
        (folder / "faq.jsonl").write_text("half written")
    os.utime(old, (0, 0))
    store.ingest(write_jsonl(tmp_path / "again.jsonl", SHOP_FAQ))
    assert not old.exists() and young.exists()


# adding one entry (the console's "new FAQ entry from a gap") ---------------------------------


def test_an_added_entry_is_answerable_and_reuses_the_stored_vectors(store: FaqStore) -> None:
    from retrieval.faq import FaqEntry, faq_version, load_faq

    before = store.load()
    entry = FaqEntry("gift-wrap", "  Do you offer gift wrapping? ", "Yes, for 3 EUR at checkout.", "orders")
    report = store.add_entry(entry)

    entries = load_faq(store.directory / "faq.jsonl")
    assert [e.id for e in entries] == [*(row["id"] for row in SHOP_FAQ), "gift-wrap"]
    assert entries[-1].question == "Do you offer gift wrapping?"  # stored as a file would load it
    assert report.count == len(SHOP_FAQ) + 1 and report.version == faq_version(entries) == store.version()
    assert "orders" in report.categories
    retriever = store.load()
    assert retriever.retrieve("can you gift wrap my present", k=1)[0].entry.id == "gift-wrap"
    assert retriever.categories == before.categories | {"orders"}
    # the old entries kept their vectors: the same scores as before the addition
    old = before.retrieve("reset my password", k=1)[0]
    new = retriever.retrieve("reset my password", k=1)[0]
    assert (new.entry.id, round(new.score, 5)) == (old.entry.id, round(old.score, 5))
    assert sorted(p.name for p in store.directory.parent.iterdir()) == ["faq"]


def test_an_added_entry_with_a_taken_id_changes_nothing(store: FaqStore) -> None:
    from retrieval.faq import FaqEntry
    from retrieval.store import FaqEntryExists

    before = snapshot(store.directory.parent)
    with pytest.raises(FaqEntryExists, match="ship-time"):
        store.add_entry(FaqEntry("ship-time", "How fast is shipping?", "Fast."))
    with pytest.raises(FaqEntryExists, match="ship-abroad"):
        store.add_entry(FaqEntry("new-id", "do you  SHIP abroad?", "Fast."))  # the same question
    with pytest.raises(ValueError, match="needs an id, a question and an answer"):
        store.add_entry(FaqEntry("blank", "Anything?", "   "))
    assert snapshot(store.directory.parent) == before


def test_adding_to_an_empty_store_is_a_named_error(tmp_path: Path, encoder: SentenceEncoder) -> None:
    from retrieval.faq import FaqEntry

    with pytest.raises(FaqNotFound):
        FaqStore(tmp_path / "faq", encoder).add_entry(FaqEntry("a", "Q?", "A."))


def test_concurrent_additions_keep_every_entry(store: FaqStore, encoder: SentenceEncoder) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from retrieval.faq import FaqEntry

    # two stores on the same folder, as two server processes would have
    other = FaqStore(store.directory, encoder)
    added = [FaqEntry(f"extra-{n}", f"Extra question number {n}?", f"Answer {n}.") for n in range(6)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda pair: pair[0].add_entry(pair[1]), zip([store, other] * 3, added, strict=True)))
    ids = {e.id for e in store.load().entries}
    assert {e.id for e in added} <= ids and len(ids) == len(SHOP_FAQ) + 6
