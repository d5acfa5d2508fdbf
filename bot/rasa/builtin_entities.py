"""Entities every shop needs without training data: order numbers, e-mail addresses and dates.

Rasa has no built-ins; these play the part Duckling plays in a Rasa pipeline, so their entities carry
``"extractor": "HelplineBuiltinExtractor"``. Each kind is switched on by name (``BUILTINS``):

``order_id``
    A run of 3–10 digits (``4471``), a code of 1–4 letters, a hyphen and 3–10 digits (``NW-33120``), or either
    written after ``#`` (``#4471``, ``#NW33120``). The value drops the ``#`` and upper-cases the letters; the
    span keeps what the customer typed. Digits that belong to an amount (``$120``, ``12.50``, ``100%``) are not
    order numbers.
``email``
    An address as typed (``anna@example.com``); a full stop ending the sentence is not part of it.
``date``
    ISO ``2026-12-03``, day-first ``03/12/2026`` (also ``.`` or ``-``; a year is required), ``3 March``,
    ``3rd of March 2026``, ``March 3``, ``today``, ``tomorrow``, ``yesterday``, ``the day after tomorrow``,
    ``monday``, ``last/this/next monday``, ``last/this/next week|month``, ``3 days ago``, ``in two weeks``,
    ``in 2025``.
    The value is an ISO date (``"2026-11-23"``); ``additional_info`` says what it covers, Duckling-style:
    ``{"grain": "day" | "week" | "month" | "year", "from": <first day>, "to": <last day>}``. A longer span is
    represented by its first day (weeks start on Monday, as in Duckling), with ``to`` its last day.
    Relative dates count from the reference date. Unlike Duckling, which always looks forward, a day and month
    without a year is the one in the 300 days before to 65 days after the reference date: customers mostly
    speak of orders already placed ("delivered on 3 March"), while a date a few weeks ahead is a delivery they
    wait for. A bare weekday is the one in the reference date's week (Monday–Sunday), which reads right for
    both "it came on monday" and "will it arrive by friday"; ``next``/``last`` move strictly after/before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date, timedelta
from typing import Any

BUILTIN_EXTRACTOR = "HelplineBuiltinExtractor"
# the order in which overlapping built-ins win: "anna4471@example.com" is an address, "2026-12-03" a date
BUILTINS = ("email", "date", "order_id")

_ORDER = re.compile(
    r"(?<![\w#-])#?(?P<code>[a-z]{1,4}-\d{3,10})(?![\w-])"
    r"|(?<![\w#])#(?P<tag>[a-z]{0,4}\d{3,10})(?!\w)"
    r"|(?<![\w#$€£.,/])(?P<num>\d{3,10})(?![\w%$€£]|[.,/-]\d)",
    re.IGNORECASE,
)
# bounded parts, so a long run of text without an address costs little to scan
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]{1,64}@(?:[a-z0-9-]{1,63}\.){1,8}[a-z]{2,24}(?![\w-])", re.IGNORECASE)

_MONTHS = {name: number for number, names in enumerate(
    ("jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july", "aug august",
     "sep sept september", "oct october", "nov november", "dec december"), start=1) for name in names.split()}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10}
_RELATIVE_DAYS = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1, "the day after tomorrow": 2,
                  "day after tomorrow": 2, "the day before yesterday": -2, "day before yesterday": -2}
PAST_DAYS = 300  # how far back a date without a year may lie (see the module docstring)

_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>(?:19|20)\d\d))?\b"
_ON_WEEKDAY = r"(?:(?:" + "|".join(_WEEKDAYS) + r"),?\s+(?:the\s+)?)?"  # "tuesday 8 December" is one date
_COUNT = r"(?P<count>\d{1,3}|" + "|".join(_COUNTS) + r")"

Span = tuple[int, int, str, dict[str, Any]]  # start, end, value, additional_info


def _day(day: date) -> tuple[str, dict[str, Any]]:
    return day.isoformat(), {"grain": "day", "from": day.isoformat(), "to": day.isoformat()}


def _range(first: date, last: date, grain: str) -> tuple[str, dict[str, Any]]:
    return first.isoformat(), {"grain": grain, "from": first.isoformat(), "to": last.isoformat()}


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:  # 31 April, month 13: not a date, so not an entity
        return None


def _without_year(ref: date, month: int, day: int) -> date | None:
    earliest = ref - timedelta(days=PAST_DAYS)
    for year in range(ref.year - 1, ref.year + 5):  # five years ahead reach the next 29 February
        found = _safe_date(year, month, day)
        if found and found > earliest:
            return found
    return None


def _full_year(text: str) -> int:
    return int(text) + 2000 if len(text) == 2 else int(text)


def _month_start(day: date, shift: int) -> date:
    index = day.year * 12 + day.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def _iso(m: re.Match[str], ref: date) -> tuple[str, dict[str, Any]] | None:
    found = _safe_date(int(m["y"]), int(m["m"]), int(m["d"]))
    return _day(found) if found else None


def _numeric(m: re.Match[str], ref: date) -> tuple[str, dict[str, Any]] | None:
    found = _safe_date(_full_year(m["y"]), int(m["m"]), int(m["d"]))  # day first, as customers in Europe write
    return _day(found) if found else None


def _named(m: re.Match[str], ref: date) -> tuple[str, dict[str, Any]] | None:
    month, day = _MONTHS[m["month"].lower()], int(m["day"])
    found = _safe_date(int(m["year"]), month, day) if m["year"] else _without_year(ref, month, day)
    return _day(found) if found else None


def _relative_day(m: re.Match[str], ref: date) -> tuple[str, dict[str, Any]] | None:
    return _day(ref + timedelta(days=_RELATIVE_DAYS[" ".join(m[0].lower().split())]))


def _weekday(m: re.Match[str], ref: date) -> tuple[str, dict[str, Any]] | None:
    target, which = _WEEKDAYS.index(m["weekday"].lower()), (m["which"] or "this").lower()
    if which in ("next", "coming"):
        return _day(ref + timedelta(days=(target - ref.weekday() - 1) % 7 + 1))
    if which == "last":
        return _day(ref - timedelta(days=(ref.weekday() - target - 1) % 7 + 1))
    return _day(ref + timedelta(days=target - ref.weekday()))


def _period(m: re.Match[str], ref: date) -> tuple[str, dict[str, Any]] | None:
    shift = {"last": -1, "this": 0, "next": 1}[m["which"].lower()]
    if m["unit"].lower() == "week":
        monday = ref - timedelta(days=ref.weekday()) + timedelta(weeks=shift)
        return _range(monday, monday + timedelta(days=6), "week")
    first = _month_start(ref, shift)
    return _range(first, _month_start(ref, shift + 1) - timedelta(days=1), "month")


def _year(m: re.Match[str], ref: date) -> tuple[str, dict[str, Any]] | None:
    year = int(m["year"])
    return _range(date(year, 1, 1), date(year, 12, 31), "year")


def _offset(m: re.Match[str], ref: date) -> tuple[str, dict[str, Any]] | None:
    count = _COUNTS.get(m["count"].lower()) or int(m["count"])
    days = count * (7 if m["unit"].lower() == "week" else 1)
    return _day(ref - timedelta(days=days) if m.groupdict().get("ago") else ref + timedelta(days=days))


_DATE_FORMS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], date], tuple[str, dict[str, Any]] | None]], ...]
_DATE_FORMS = tuple((re.compile(pattern, re.IGNORECASE), resolve) for pattern, resolve in (
    (r"\b(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})\b", _iso),
    (r"\b(?P<d>\d{1,2})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})\b(?![-/.]\d)", _numeric),
    (r"\b" + _ON_WEEKDAY + _DAY + r"(?:\s+of)?\s+" + _MONTH + _YEAR, _named),
    (r"\b" + _ON_WEEKDAY + _MONTH + r"\s+" + _DAY + _YEAR, _named),
    (r"\b(?:(?:the\s+)?day\s+(?:after\s+tomorrow|before\s+yesterday)|today|tonight|tomorrow|yesterday)\b",
     _relative_day),
    (r"\b(?:(?P<which>last|this|next|coming)\s+)?(?P<weekday>" + "|".join(_WEEKDAYS) + r")\b", _weekday),
    (r"\b(?P<which>last|this|next)\s+(?P<unit>week|month)\b", _period),
    (r"\b" + _COUNT + r"\s+(?P<unit>day|week)s?\s+(?P<ago>ago)\b", _offset),
    (r"\bin\s+" + _COUNT + r"\s+(?P<unit>day|week)s?\b", _offset),
    (r"\b(?:in|during)\s+(?P<year>(?:19|20)\d\d)\b(?![.,/-]\d)", _year),  # "in 2025" is no order number
))


def _dates(text: str, ref: date) -> list[Span]:
    spans: list[Span] = []
    for pattern, resolve in _DATE_FORMS:
        for m in pattern.finditer(text):
            resolved = resolve(m, ref)
            if resolved:
                spans.append((m.start(), m.end(), *resolved))
    return spans


def _orders(text: str) -> list[Span]:
    return [(m.start(), m.end(), (m["code"] or m["tag"] or m["num"]).upper(), {}) for m in _ORDER.finditer(text)]


def _emails(text: str) -> list[Span]:
    return [(m.start(), m.end(), m[0], {}) for m in _EMAIL.finditer(text)]


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in taken)


def extract_builtins(text: str, reference_date: date, enabled: Collection[str] = BUILTINS,
                     taken: Collection[tuple[int, int]] = ()) -> list[dict[str, Any]]:
    """Rasa entity dicts for the enabled built-ins, none overlapping another or a span in ``taken``."""
    found = {"email": _emails, "date": lambda t: _dates(t, reference_date), "order_id": _orders}
    occupied = list(taken)
    entities = []
    for kind in BUILTINS:
        if kind not in enabled:
            continue
        # longest first, so "next monday" wins over "monday" and "3 March 2026" over "3 March"
        for start, end, value, info in sorted(found[kind](text), key=lambda s: (s[0] - s[1], s[0])):
            if _overlaps(start, end, occupied):
                continue
            occupied.append((start, end))
            entity: dict[str, Any] = {"entity": kind, "start": start, "end": end, "value": value,
                                      "extractor": BUILTIN_EXTRACTOR}
            if info:
                entity["additional_info"] = info
            entities.append(entity)
    return entities
