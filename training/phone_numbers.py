"""Phone number candidates in text, found in time linear in its length.

The shapes are those of the regular expression this module replaces (S is an optional separator, [ .-]):

    (?<![\\w#/+.,-])(?:
      \\+\\d{1,3}S(?:\\(\\d{1,4}\\)S)?\\d{1,4}(?:S\\d{1,4}){1,5}     # +44 (0)20 7946 0958
    | \\(\\d{2,5}\\)S\\d{2,4}(?:S\\d{2,4}){1,3}                    # (020) 7946 0958
    | 0\\d{1,4}(?:S\\d{2,4}){1,4}                                # 06 12 34 56 78, 030 1234567
    | \\d{3}[ .-]\\d{3}[ .-]\\d{4}                                 # 555-123-4567
    )(?![\\w-])

A backtracking engine tries every way of cutting the digits into groups before it gives up: "+" with 17
digits and a letter cost it thousands of steps, and 2,000 characters of that a second. But only the number
of groups matters, and a run of L digits splits into k groups of lo..hi digits exactly when
k*lo <= L <= k*hi. So the digit runs after a start (joined by single separators) are read once, the group
counts they allow kept as an interval, and the candidate is what the expression matches: the first shape
that can end after a run not followed by a word character or a dash, up to the farthest such run.
``tests/training/test_phone_numbers.py`` compares the two on random text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# A necessary condition for a candidate at a position; ``candidate_end`` reads what follows.
START = re.compile(r"(?<![\w#/+.,-])(?=[+(]\d|0\d|\d{3}[ .-]\d{3}[ .-]\d{4}(?![\w-]))")
THREE_THREE_FOUR = re.compile(r"\d{3}[ .-]\d{3}[ .-]\d{4}(?![\w-])")
# No shape holds more than 27 digits in one run, so 32 are enough to know that a run is too long.
RUN = re.compile(r"\d{1,32}")
AREA_CODE = re.compile(r"\(\d{1,4}\)")  # +44 (0)20 …
BRACKETED_CODE = re.compile(r"\(\d{2,5}\)")  # (020) …
CAN_END = re.compile(r"(?![\w-])")
SEPARATORS = " .-"
NONE = (1, 0)  # an empty interval of group counts


def _past_separator(text: str, position: int) -> int:
    """``position``, or the one after it when a separator stands there."""
    return position + 1 if position < len(text) and text[position] in SEPARATORS else position


def _splits(length: int, lo: int, hi: int) -> tuple[int, int]:
    """The fewest and most groups of lo..hi digits that ``length`` digits split into (fewest > most: none)."""
    return -(-length // hi), length // lo


def _split_after(length: int, taken: range, lo: int, hi: int, most: int) -> tuple[int, int]:
    """The group counts (at most ``most``) of a run of ``length`` digits whose first ``taken`` digits, any
    number of the range, belong to something else. The intervals for consecutive numbers overlap (or one is
    empty), so their hull is exact."""
    splits = [_splits(length - first, lo, hi) for first in taken if first <= length]
    possible = [(low, high) for low, high in splits if low <= high]
    if not possible:
        return NONE
    return min(low for low, _ in possible), min(max(high for _, high in possible), most)


def _farthest(text: str, position: int, counts: tuple[int, int], lo: int, hi: int,
              least: int, most: int, farthest: int | None = None) -> int | None:
    """The end of the farthest digit run from ``position`` on (runs joined by one separator) after which the
    groups of lo..hi digits can number least..most and the text may end. ``counts``: the interval of group
    counts before the run at ``position``; ``farthest``: the end found before it."""
    fewest, largest = counts
    while fewest <= largest and (match := RUN.match(text, position)):
        end = match.end()
        low, high = _splits(end - position, lo, hi)
        if low > high:  # a run that cannot be cut into such groups
            break
        fewest, largest = fewest + low, min(largest + high, most)
        if fewest <= largest and largest >= least and CAN_END.match(text, end):
            farthest = end
        if end == len(text) or text[end] not in SEPARATORS:
            break
        position = end + 1
    return farthest


def _first_run(text: str, run: re.Match[str], counts: tuple[int, int], lo: int, hi: int,
               least: int, most: int) -> int | None:
    """``_farthest`` after a first ``run`` whose groups number ``counts``."""
    fewest, largest = counts
    end = run.end()
    first = end if fewest <= largest and largest >= least and CAN_END.match(text, end) else None
    after = _past_separator(text, end)
    return _farthest(text, after, counts, lo, hi, least, most, first) if after > end else first


def _after_plus(text: str, start: int) -> int | None:
    """``+44 (0)20 7946 0958``: a country code of 1-3 digits, an area code in brackets or not, then 2-6
    groups of 1-4 digits; without the brackets the first group may follow the code without a separator."""
    code = RUN.match(text, start + 1)
    if code is None:
        return None
    length = code.end() - code.start()
    plain = _first_run(text, code, _split_after(length, range(1, 4), 1, 4, 6), 1, 4, 2, 6)
    bracket = AREA_CODE.match(text, _past_separator(text, code.end())) if length <= 3 else None
    if bracket is None:
        return plain
    bracketed = _farthest(text, _past_separator(text, bracket.end()), (0, 0), 1, 4, 2, 6)
    return max((end for end in (plain, bracketed) if end is not None), default=None)


def _after_bracket(text: str, start: int) -> int | None:
    """``(020) 7946 0958``: 2-5 digits in brackets, then 2-4 groups of 2-4 digits."""
    bracket = BRACKETED_CODE.match(text, start)
    return _farthest(text, _past_separator(text, bracket.end()), (0, 0), 2, 4, 2, 4) if bracket else None


def _after_zero(text: str, start: int) -> int | None:
    """``06 12 34 56 78``: a 0 and 1-4 digits, then 1-4 groups of 2-4 digits, the first maybe in the same run."""
    run = RUN.match(text, start)
    if run is None:
        return None
    # the 0 and the 1-4 digits after it are the first 2-5 digits of the run
    return _first_run(text, run, _split_after(run.end() - start, range(2, 6), 2, 4, 4), 2, 4, 1, 4)


def candidate_end(text: str, start: int) -> int | None:
    """Where the phone number candidate starting at ``start`` ends, or None when none starts there."""
    char = text[start]
    if char == "+":
        return _after_plus(text, start)
    if char == "(":
        return _after_bracket(text, start)
    end = _after_zero(text, start) if char == "0" else None
    if end is None and (match := THREE_THREE_FOUR.match(text, start)):
        end = match.end()
    return end


def phone_candidates(text: str) -> Iterator[tuple[int, int]]:
    """Spans of phone number candidates, left to right, never overlapping (as ``re.finditer`` would give)."""
    position = 0
    while start_match := START.search(text, position):
        start = start_match.start()
        end = candidate_end(text, start)
        if end is None:
            position = start + 1
        else:
            yield start, end
            position = end
