"""Phone number candidates: the shapes the old expression matched, found without its backtracking."""

from __future__ import annotations

import random

import pytest

from benchmarks.redaction_baseline import PHONE_CANDIDATE
from training.phone_numbers import phone_candidates


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("call +44 (0)20 7946 0958 now", [(5, 24)]),
        ("(020) 7946 0958 or 06 12 34 56 78", [(0, 15), (19, 33)]),
        ("US office 555-123-4567.", [(10, 22)]),
        ("+1 2 3 4 5 6 7 8", [(0, 14)]),  # six groups at most: the candidate ends after the sixth
        ("012 345 6789 12", [(0, 15)]),  # the 0-led shape comes first and reaches farther than 3-3-4
        ("+44 20 7946 0958-x", [(0, 11)]),  # no shape ends before a dash: this one ends a run earlier
        ("ref#0612345678, 1/0612345678", []),  # glued to a word, a '#' or a '/'
    ],
)
def test_the_shapes_and_where_they_end(text: str, spans: list[tuple[int, int]]) -> None:
    assert list(phone_candidates(text)) == spans


def test_a_plus_with_many_digits_and_a_letter_is_no_candidate_however_often_it_comes() -> None:
    # each of these cost the backtracking expression thousands of steps; none is a phone number
    assert list(phone_candidates(" +11111111111111111a" * 100)) == []


def random_phone_like_text(rng: random.Random) -> str:
    """Digit runs of every length, separators, brackets and the characters that may not stand around a number."""
    starts = ["+", "(", "0", "", "+1", "(0", "+44 (", "#", "a", "/", ",", ")", "(12)", "\u0661"]
    joints = [" ", ".", "-", "", "(", ")", ") ", "a", "  ", "_", "é", "+", "/"]
    pieces = []
    for _ in range(rng.randint(1, 4)):
        pieces.append(rng.choice(starts))
        for _ in range(rng.randint(1, 7)):
            length = rng.choice([1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 8, 12, 20, 33])
            pieces.append("".join(rng.choice("0123456789" if rng.random() < 0.9 else "\u0660\u0661")
                                  for _ in range(length)))
            pieces.append(rng.choice(joints))
    return "".join(pieces)


def test_the_candidates_are_those_of_the_old_expression_on_random_text() -> None:
    rng = random.Random(3)
    for _ in range(4000):
        text = random_phone_like_text(rng)
        assert list(phone_candidates(text)) == [m.span() for m in PHONE_CANDIDATE.finditer(text)], text
