from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from training.data import DataFormatError, Example, is_oos, load_examples, stratified_split


def write(tmp_path: Path, text: str, name: str = "intents.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("column", ["intent", "label", "category"])
def test_load_accepts_each_label_column_name(tmp_path: Path, column: str) -> None:
    path = write(tmp_path, f"text,{column}\nwhere is my card,card_arrival\ntop me up,top_up\n")
    assert load_examples(path) == [Example("where is my card", "card_arrival"), Example("top me up", "top_up")]


def test_first_label_column_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "category,text,intent\nwrong,hello,greeting\n")
    assert load_examples(path) == [Example("hello", "greeting")]


def test_text_is_stripped_and_whitespace_collapsed(tmp_path: Path) -> None:
    path = write(tmp_path, 'text,intent\n"  where is\n my   card  ",card_arrival\n')
    assert load_examples(path) == [Example("where is my card", "card_arrival")]


def test_empty_text_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "text,intent\nhello,greeting\n\n   ,greeting\n")
    with pytest.raises(DataFormatError) as caught:
        load_examples(path)
    assert str(caught.value) == "intents.csv line 4: empty text"
    assert (caught.value.line, caught.value.reason, caught.value.path) == (4, "empty text", path)


def test_line_numbers_count_quoted_newlines(tmp_path: Path) -> None:
    path = write(tmp_path, 'text,intent\n"two\nlines",greeting\nhello,\n')
    with pytest.raises(DataFormatError, match="line 4: empty intent"):
        load_examples(path)


def test_every_bad_row_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "text,intent\n,greeting\nhello,greeting\nbye,\nok,thanks,extra\n")
    with pytest.raises(DataFormatError) as caught:
        load_examples(path)
    assert [(e.line, e.reason) for e in (caught.value, *caught.value.others)] == [
        (2, "empty text"), (4, "empty intent"), (5, "expected 2 fields, found 3"),
    ]


def test_wrong_field_count_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "text,intent\nhello,greeting,extra\n")
    with pytest.raises(DataFormatError, match="line 2: expected 2 fields, found 3"):
        load_examples(path)


def test_header_problems_are_line_one(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="line 1: no label column"):
        load_examples(write(tmp_path, "text,topic\nhello,greeting\n"))
    with pytest.raises(DataFormatError, match="line 1: no 'text' column"):
        load_examples(write(tmp_path, "utterance,intent\nhello,greeting\n"))
    with pytest.raises(DataFormatError, match="no examples"):
        load_examples(write(tmp_path, "text,intent\n"))


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        load_examples(tmp_path / "nope.csv")


def test_oos_labels() -> None:
    assert is_oos("oos") and is_oos("out_of_scope") and is_oos("OOS")
    assert not is_oos("top_up")


def test_stratified_split_keeps_every_label_in_train() -> None:
    examples = [Example(f"{label} {i}", label) for label, n in (("a", 10), ("b", 2), ("c", 1)) for i in range(n)]
    train, held = stratified_split(examples, 0.5, seed=3)
    assert sorted(train + held, key=lambda e: e.text) == sorted(examples, key=lambda e: e.text)
    assert Counter(e.label for e in held) == {"a": 5, "b": 1}
    assert {e.label for e in train} == {"a", "b", "c"}
    assert stratified_split(examples, 0.5, seed=3) == (train, held)
    assert stratified_split(examples, 0.5, seed=4) != (train, held)


def test_stratified_split_rejects_bad_fraction() -> None:
    with pytest.raises(ValueError):
        stratified_split([Example("x", "a")], 1.0, seed=0)
