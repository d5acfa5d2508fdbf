"""Entity extraction as a Rasa pipeline gives it to custom actions: regexes, lookups, synonyms, built-ins."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.rasa.entities import EntityExtractor, InvalidEntityConfig

THURSDAY = date(2026, 12, 3)  # the reference date: a Thursday


def found(text: str, extractor: EntityExtractor | None = None, ref: date = THURSDAY) -> list[tuple[str, str, Any]]:
    """(entity, the text its span covers, value) for each entity, in order."""
    entities = (extractor or EntityExtractor()).extract(text, ref)
    return [(e["entity"], text[e["start"]:e["end"]], e["value"]) for e in entities]


def test_an_order_number_in_a_question() -> None:
    text = "where is my order 4471?"
    [entity] = EntityExtractor().extract(text, THURSDAY)
    assert entity == {"entity": "order_id", "start": 18, "end": 22, "value": "4471",
                      "extractor": "HelplineBuiltinExtractor"}


def test_an_order_code_after_a_hash_drops_the_hash_from_its_value() -> None:
    assert found("order #NW-33120 hasn't arrived") == [("order_id", "#NW-33120", "NW-33120")]
    assert found("it's #4471") == [("order_id", "#4471", "4471")]
    assert found("my order nw-123 is late") == [("order_id", "nw-123", "NW-123")]


def test_money_percentages_and_long_numbers_are_not_order_numbers() -> None:
    assert found("I paid $120, it was 12.50 with 100% off") == []
    assert found("call me on 004512345678") == []
    assert found("I ordered 2 tents") == []  # under three digits


def test_an_email_address_without_the_full_stop_that_ends_the_sentence() -> None:
    assert found("mail me at anna@example.com.") == [("email", "anna@example.com", "anna@example.com")]
    assert found("write to Bo.Li+shop@mail.example.co.uk!") == [
        ("email", "Bo.Li+shop@mail.example.co.uk", "Bo.Li+shop@mail.example.co.uk")]


def test_last_week_is_its_monday_with_the_whole_week_in_additional_info() -> None:
    text = "I bought them last week"
    [entity] = EntityExtractor().extract(text, THURSDAY)
    assert text[entity["start"]:entity["end"]] == "last week"
    assert entity["value"] == "2026-11-23"
    assert entity["additional_info"] == {"grain": "week", "from": "2026-11-23", "to": "2026-11-29"}


def test_a_day_and_month_without_a_year_is_the_recent_one_or_one_just_ahead() -> None:
    assert found("delivered on 3 March") == [("date", "3 March", "2026-03-03")]
    assert found("will it arrive by 20 January?") == [("date", "20 January", "2027-01-20")]


@pytest.mark.parametrize(("text", "span", "value"), [
    ("it was sent on 2026-11-28", "2026-11-28", "2026-11-28"),
    ("ordered 03/12/2026", "03/12/2026", "2026-12-03"),  # day first
    ("ordered 3.12.26", "3.12.26", "2026-12-03"),
    ("since March 3rd, 2025", "March 3rd, 2025", "2025-03-03"),
    ("on the 5th of November", "5th of November", "2026-11-05"),
    ("on Tuesday, 1 December", "Tuesday, 1 December", "2026-12-01"),
    ("I ordered it today", "today", "2026-12-03"),
    ("can it come tomorrow", "tomorrow", "2026-12-04"),
    ("it came yesterday", "yesterday", "2026-12-02"),
    ("the day after tomorrow works", "the day after tomorrow", "2026-12-05"),
    ("deliver next monday", "next monday", "2026-12-07"),
    ("it shipped last Monday", "last Monday", "2026-11-30"),
    ("it shipped last thursday", "last thursday", "2026-11-26"),
    ("will it come by friday", "friday", "2026-12-04"),
    ("I returned it 3 days ago", "3 days ago", "2026-11-30"),
    ("it should arrive in two weeks", "in two weeks", "2026-12-17"),
    ("I bought it in 2025", "in 2025", "2025-01-01"),  # a year, not order number 2025
])
def test_dates_are_iso_dates_counted_from_the_reference_date(text: str, span: str, value: str) -> None:
    assert found(text) == [("date", span, value)]


def test_a_month_is_its_first_day_with_its_last_day_in_additional_info() -> None:
    [entity] = EntityExtractor().extract("refunds from last month", THURSDAY)
    assert (entity["value"], entity["additional_info"]) == (
        "2026-11-01", {"grain": "month", "from": "2026-11-01", "to": "2026-11-30"})


def test_dates_count_from_today_without_a_reference_date() -> None:
    [entity] = EntityExtractor().extract("can it come tomorrow")
    assert entity["value"] == (date.today() + timedelta(days=1)).isoformat()


def test_impossible_dates_are_no_dates() -> None:
    assert found("delivered on 31 April") == []


def test_a_date_is_not_also_an_order_number() -> None:
    assert found("ordered 03/12/2026, order 4471") == [("date", "03/12/2026", "2026-12-03"),
                                                      ("order_id", "4471", "4471")]


def test_builtins_can_be_switched_off() -> None:
    text = "order 4471 from last week, anna@example.com"
    assert [e[0] for e in found(text, EntityExtractor(builtins=["email"]))] == ["email"]
    assert found(text, EntityExtractor.from_config({"builtins": []})) == []


SHOP = {
    "regexes": {"sku": [r"\bSKU-\d{4}\b"], "zipcode": [r"\b\d{5}\b"]},
    "lookups": {"colour": ["navy", "forest green"]},
    "synonyms": {"navy": ["dark blue"]},
    "examples": [
        {"text": "the marine one", "entities": [{"start": 4, "end": 10, "value": "navy", "entity": "colour"}]},
        {"text": "SKU-1234 please", "entities": [{"start": 0, "end": 8, "value": "SKU-1234", "entity": "sku"}]},
    ],
}


def test_regexes_and_lookups_name_their_entities_case_insensitively() -> None:
    extractor = EntityExtractor.from_config(SHOP)
    text = "is sku-2211 in Forest Green?"
    assert extractor.extract(text, THURSDAY) == [
        {"entity": "sku", "start": 3, "end": 11, "value": "sku-2211", "extractor": "RegexEntityExtractor"},
        {"entity": "colour", "start": 15, "end": 27, "value": "Forest Green", "extractor": "RegexEntityExtractor"},
    ]


def test_only_entities_the_nlu_data_annotates_are_extracted() -> None:
    # Rasa's use_only_entities: no example annotates "zipcode", so its regex extracts nothing, even when
    # the domain declares the entity
    assert found("ship to 33120", EntityExtractor.from_config(SHOP)) == [("order_id", "33120", "33120")]
    declared = EntityExtractor.from_config({**SHOP, "entities": ["zipcode", "sku", "colour"], "builtins": []})
    assert found("ship to 33120", declared) == []
    hand_written: dict[str, Any] = {"regexes": SHOP["regexes"], "builtins": []}
    assert found("ship to 33120", EntityExtractor.from_config(hand_written)) == [("zipcode", "33120", "33120")]
    assert found("ship to 33120", EntityExtractor.from_config({**hand_written, "entities": ["sku"]})) == []


def test_synonyms_map_values_to_their_canonical_form() -> None:
    lookups = {"colour": ["dark blue", "marine", "navy", "forest green"]}
    extractor = EntityExtractor.from_config({**SHOP, "lookups": lookups})
    entities = extractor.extract("Dark Blue, MARINE, Navy or forest green", THURSDAY)
    mapped = ["EntitySynonymMapper"]
    assert [(e["value"], e.get("processors")) for e in entities] == [
        ("navy", mapped),  # a listed synonym, whatever its case
        ("navy", mapped),  # learnt from the example that annotated "marine" as navy
        ("navy", mapped),  # the canonical value written in another case
        ("forest green", None),
    ]


def test_synonyms_also_map_builtin_values() -> None:
    extractor = EntityExtractor.from_config({"synonyms": {"4471": ["NW-4471"]}})
    [entity] = extractor.extract("order NW-4471", THURSDAY)
    assert (entity["value"], entity["processors"]) == ("4471", ["EntitySynonymMapper"])


def test_lookups_match_whole_words_unless_word_boundaries_are_off() -> None:
    config: dict[str, Any] = {"lookups": {"colour": ["navy"]}, "builtins": []}
    assert found("a navyish tent", EntityExtractor.from_config(config)) == []
    assert found("a navyish tent", EntityExtractor.from_config({**config, "use_word_boundaries": False})) == [
        ("colour", "navy", "navy")]


def test_case_sensitive_patterns_match_only_their_case() -> None:
    config: dict[str, Any] = {"lookups": {"colour": ["navy"]}, "case_sensitive": True, "builtins": []}
    assert found("NAVY or navy", EntityExtractor.from_config(config)) == [("colour", "navy", "navy")]


def test_the_projects_own_entity_wins_over_an_overlapping_builtin() -> None:
    extractor = EntityExtractor.from_config({"regexes": {"sku": [r"\bNW-\d+\b"]},
                                             "lookups": {"product": ["tent 3000"]}})
    assert found("is NW-33120 the tent 3000 from yesterday?", extractor) == [
        ("sku", "NW-33120", "NW-33120"), ("product", "tent 3000", "tent 3000"), ("date", "yesterday", "2026-12-02")]


def test_each_span_once_overlapping_patterns_all_reported_in_order() -> None:
    extractor = EntityExtractor.from_config({
        "regexes": {"size": [r"\bXL\b", r"\b[XSML]{1,3}\b"], "fit": [r"\bX\w+\b"]}, "builtins": []})
    assert found("XL or S", extractor) == [("fit", "XL", "XL"), ("size", "XL", "XL"), ("size", "S", "S")]


def test_from_file_reads_the_importers_json(tmp_path: Path) -> None:
    path = tmp_path / "entities.json"
    path.write_text(json.dumps(SHOP), encoding="utf-8")
    assert found("SKU-1111", EntityExtractor.from_file(path)) == [("sku", "SKU-1111", "SKU-1111")]


@pytest.mark.parametrize("config", [
    {"regex": {"sku": ["x"]}},  # a typo for "regexes" must not pass silently
    {"regexes": {"sku": ["(unclosed"]}},
    {"lookups": {"colour": "navy"}},
    {"builtins": ["phone"]},
])
def test_a_config_that_cannot_work_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(InvalidEntityConfig):
        EntityExtractor.from_config(config)
