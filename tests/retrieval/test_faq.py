from __future__ import annotations

import os
from pathlib import Path

import pytest

from retrieval.faq import FaqEntry, FaqFormatError, entry_text, faq_version, load_faq, question_id

SHARED_DATA = Path(os.environ.get("HELPLINE_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_with_optional_columns(tmp_path: Path) -> None:
    faq = write(tmp_path / "faq.csv", "id, Question ,answer,category\n"
                "pay,Which cards?,Visa and Mastercard.,payments\n"
                ", Do you ship abroad? , Yes. ,\n")
    entries = load_faq(faq)
    assert entries[0] == FaqEntry("pay", "Which cards?", "Visa and Mastercard.", "payments")
    assert entries[1] == FaqEntry(question_id("Do you ship abroad?"), "Do you ship abroad?", "Yes.", None)


def test_csv_bom_and_quoted_newlines_are_read(tmp_path: Path) -> None:
    faq = tmp_path / "faq.csv"
    faq.write_bytes('\ufeffquestion,answer\n"Opening hours?","Mon-Fri\n9 to 5"\n'.encode())
    assert load_faq(faq) == [FaqEntry(question_id("Opening hours?"), "Opening hours?", "Mon-Fri\n9 to 5")]


def test_csv_error_names_file_and_line_counting_the_header(tmp_path: Path) -> None:
    faq = write(tmp_path / "faq.csv", "question,answer\nA?,a\n\"B?\",\"two\nlines\"\nC?,\nD?,d\n")
    with pytest.raises(FaqFormatError) as info:
        load_faq(faq)
    assert str(info.value) == "faq.csv line 5: missing 'answer'"
    assert (info.value.path, info.value.line, info.value.reason) == (faq, 5, "missing 'answer'")


def test_every_row_is_checked_and_all_problems_are_kept(tmp_path: Path) -> None:
    faq = write(tmp_path / "faq.csv", "question,answer\n,a\nB?,b\nC?\nD?,d,extra\n")
    with pytest.raises(FaqFormatError) as info:
        load_faq(faq)
    problems = [info.value, *info.value.others]
    assert [(p.line, p.reason) for p in problems] == [
        (2, "missing 'question'"), (4, "missing 'answer'"), (5, "3 fields, header has 2"),
    ]


def test_csv_header_must_name_question_and_answer(tmp_path: Path) -> None:
    with pytest.raises(FaqFormatError, match=r"faq.csv line 1: header lacks 'answer'"):
        load_faq(write(tmp_path / "faq.csv", "question,reply\nA?,a\n"))


def test_jsonl_skips_blank_lines_and_ignores_extra_fields(tmp_path: Path) -> None:
    faq = write(tmp_path / "faq.jsonl", '{"id": 7, "question": "Q?", "answer": "A.", "rank": 0}\n\n'
                '{"question": "Line\\u2028separator?", "answer": "Kept whole.", "category": "misc"}\n')
    assert load_faq(faq) == [
        FaqEntry("7", "Q?", "A."),
        FaqEntry(question_id("Line\u2028separator?"), "Line\u2028separator?", "Kept whole.", "misc"),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"question": "Q?", "answer": "  "}', "missing 'answer'"),
        ('{"question": "Q?", "answer": ["a"]}', "'answer' must be a string, got list"),
        ('["Q?", "A."]', "expected a JSON object, got list"),
        ('{"question": "Q?", "answer": "A."', "invalid JSON (Expecting ',' delimiter)"),
    ],
)
def test_jsonl_errors_name_the_line(tmp_path: Path, line: str, reason: str) -> None:
    faq = write(tmp_path / "faq.jsonl", '{"question": "Fine?", "answer": "Yes."}\n\n' + line + "\n")
    with pytest.raises(FaqFormatError) as info:
        load_faq(faq)
    assert str(info.value) == f"faq.jsonl line 3: {reason}"


def test_duplicate_ids_are_an_error(tmp_path: Path) -> None:
    faq = write(tmp_path / "faq.jsonl", '{"id": "a", "question": "Q1?", "answer": "A."}\n'
                '{"id": "a", "question": "Q2?", "answer": "B."}\n')
    with pytest.raises(FaqFormatError, match=r"line 2: duplicate id 'a' \(first on line 1\)"):
        load_faq(faq)


def test_the_same_question_twice_without_ids_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FaqFormatError, match=r"line 3: duplicate question \(first on line 2\)"):
        load_faq(write(tmp_path / "faq.csv", "question,answer\nQ?,a\nQ?,b\n"))


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FaqFormatError, match="line 1: no FAQ entries"):
        load_faq(write(tmp_path / "faq.csv", "question,answer\n"))


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"faq\.txt: unsupported FAQ file type '\.txt'"):
        load_faq(write(tmp_path / "faq.txt", "question,answer\n"))
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        load_faq(tmp_path / "nope.csv")


def test_version_changes_with_any_entry() -> None:
    entries = [FaqEntry("a", "Q?", "A."), FaqEntry("b", "R?", "B.", "x")]
    assert len(faq_version(entries)) == 16
    assert faq_version(entries) == faq_version(list(entries))
    assert faq_version(entries) != faq_version([entries[0], FaqEntry("b", "R?", "B!", "x")])
    assert faq_version(entries) != faq_version([entries[0], FaqEntry("b", "R?", "B.", None)])
    assert faq_version(entries) != faq_version(entries[:1])


def test_entry_text_is_question_then_answer() -> None:
    assert entry_text(FaqEntry("a", "Q?", "A.")) == "Q? A."


def test_question_ids_are_stable_and_short() -> None:
    assert question_id("Do you ship?") == question_id("  Do you ship? ") != question_id("Do you ship!")
    assert len(question_id("Do you ship?")) == 12


@pytest.mark.skipif(not (SHARED_DATA / "stackfaq").is_dir(), reason="shared StackFAQ data not present")
def test_stackfaq_loads_directly() -> None:
    entries = load_faq(SHARED_DATA / "stackfaq" / "faq.jsonl")
    assert len(entries) == 719 and entries[0].id == "t000_a0"
