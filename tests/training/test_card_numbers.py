"""Card numbers in a run of digit groups: the longest Luhn-valid stretch of whole groups, left to right."""

from __future__ import annotations

import random

import pytest

from benchmarks.redaction_baseline import _redact_cards as old_redact_cards
from training.card_numbers import card_spans
from training.redaction import _redact_cards


@pytest.mark.parametrize(
    ("run", "spans"),
    [
        ("4111 1111 1111 1111", [(0, 19)]),
        ("4111111111111111 5555555555554444", [(0, 16), (17, 33)]),
        ("4111 1111 1111 1112", []),  # fails the Luhn check
        ("41111111111111111111", []),  # 20 digits in one group: too long for a card
        ("0 4111 1111 1111 1111", [(0, 21)]),  # the longest stretch that passes wins: 17 digits with the 0
        ("12 4111 1111 1111 1111", [(3, 22)]),  # 12 41… fails, so the card starts at its own group
    ],
)
def test_card_spans(run: str, spans: list[tuple[int, int]]) -> None:
    assert card_spans(run) == spans


def test_cards_are_masked_as_before_in_random_runs_of_digit_groups() -> None:
    rng = random.Random(5)
    cards = ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "4222222222222", "6011111111111117"]
    for _ in range(3000):
        pieces = []
        for _ in range(rng.randint(1, 14)):
            pieces.append("".join(rng.choice("0123456789") for _ in range(rng.choice([1, 1, 2, 3, 4, 4, 5, 6]))))
            pieces.append(rng.choice([" ", "-", " ", "-", "  ", "a", "x "]))
        if rng.random() < 0.5:
            pieces.insert(rng.randrange(len(pieces)), rng.choice(cards) + " ")
        text = "".join(pieces)
        assert _redact_cards(text) == old_redact_cards(text), text
