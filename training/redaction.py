"""Personal data out of text: e-mail addresses, phone numbers, payment cards (Luhn), IBANs (mod 97), patterns.

Numbers are checked, not only matched, so order numbers (``#NW-48213``), amounts, dates and card-like
numbers that fail the Luhn check stay as they are: they carry the meaning a classifier learns from.

Anonymous visitors choose the text, so every kind is found in time linear in its length: each expression
below starts only where a run of its characters starts or repeats a bounded number of times, what it finds
is checked with a bounded amount of work (``card_numbers``, ``phone_numbers``), and configured patterns run
on RE2, which matches any expression in linear time.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol

import re2  # google-re2

from training.card_numbers import card_spans, luhn_valid
from training.phone_numbers import phone_candidates

__all__ = ["KINDS", "PATTERN_TOKEN", "TOKENS", "InvalidPattern", "Redactor", "UnknownKind", "check_kinds",
           "compile_patterns", "iban_valid", "luhn_valid"]

KINDS = ("card", "email", "phone", "iban")
TOKENS = {"card": "[CARD]", "email": "[EMAIL]", "phone": "[PHONE]", "iban": "[IBAN]"}
PATTERN_TOKEN = "[REDACTED]"

# The local part is possessive: it can never give back an "@", so giving back characters only wastes steps.
EMAIL = re.compile(r"[\w.+-]++@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# The same, starting only where a run of local-part characters starts: a later start in the run reaches the
# same "@" and the same domain, so it fails too (trying them all made a long run of "a.a.a…" quadratic).
EMAIL_AT_RUN_START = re.compile(r"(?<![\w.+-])" + EMAIL.pattern)
# Runs of digit groups joined by one space or dash; a card is 13-19 digits of such a run. Runs of fewer than
# 13 digits are passed over by the look-ahead, without a call into Python (a later start inside such a run
# has fewer digits still).
DIGIT_RUN = re.compile(r"(?<![\w-])(?=(?:\d[ -]?){13})\d+(?:[ -]\d+)*(?![\w])")
# A country code, two check digits, then 11-30 letters and digits, compact or in groups.
IBAN_CANDIDATE = re.compile(r"\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}\b")
IBAN_LETTERS = str.maketrans({letter: str(int(letter, 36)) for letter in string.ascii_uppercase})  # A=10 … Z=35
DATE = re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2}")


class InvalidPattern(ValueError):
    """A configured redaction pattern that RE2 does not take."""


class UnknownKind(ValueError):
    """A redaction kind other than card, email, phone and iban."""


def iban_valid(compact: str) -> bool:
    """Whether an IBAN without spaces passes the ISO 13616 mod-97 check."""
    compact = compact.upper()
    if not (15 <= len(compact) <= 34 and compact[:2].isalpha() and compact[2:4].isdigit() and compact.isalnum()):
        return False
    rearranged = compact[4:] + compact[:4]
    return int(rearranged.translate(IBAN_LETTERS)) % 97 == 1


class Pattern(Protocol):
    """What the redactor uses of a compiled operator pattern."""

    @property
    def pattern(self) -> str: ...

    def sub(self, repl: str, text: str) -> str: ...


def compile_patterns(patterns: Iterable[str]) -> list[Pattern]:
    """Compile configured patterns with RE2, naming the one that is not a valid RE2 expression.

    They run on text anonymous visitors choose, so they are matched in linear time: with Python's
    backtracking engine one unlucky pattern, such as ``(\\w+\\s?)+$``, takes exponential time on a short
    message. RE2 has no lookarounds or backreferences, its ``\\d``, ``\\w`` and ``\\b`` are ASCII, and it
    refuses patterns whose program would be too large.
    """
    options = re2.Options()
    options.log_errors = False  # the error is raised, named, below; RE2 would also print it to stderr
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re2.compile(pattern, options))
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise InvalidPattern(f"redaction pattern {pattern!r} is not a valid regular expression for RE2, "
                                 f"which matches in linear time (no lookarounds or backreferences): {reason}") from exc
    return compiled


def check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """The kinds, stripped and deduplicated in order; an unknown one raises ``UnknownKind``."""
    cleaned = tuple(dict.fromkeys(kind.strip().lower() for kind in kinds if kind.strip()))
    unknown = [kind for kind in cleaned if kind not in KINDS]
    if unknown:
        raise UnknownKind(f"unknown redaction kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
    return cleaned


def _masked(text: str, spans: Iterable[tuple[int, int]], token: str) -> str:
    """``text`` with each of ``spans`` (in order, not overlapping) replaced by ``token``, in one pass."""
    pieces, last = [], 0
    for start, end in spans:
        pieces += [text[last:start], token]
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _redact_cards(text: str) -> str:
    return DIGIT_RUN.sub(lambda match: _masked(match[0], card_spans(match[0]), TOKENS["card"]), text)


def _redact_ibans(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        candidate = match.group(0)
        # the candidate may run on into the next word: try it cut at each group boundary, longest first
        ends = [i for i in range(len(candidate), 0, -1) if i == len(candidate) or candidate[i] == " "]
        for end in ends:
            if iban_valid(candidate[:end].replace(" ", "")):
                return TOKENS["iban"] + candidate[end:]
        return candidate

    return IBAN_CANDIDATE.sub(replace, text)


def _redact_phones(text: str) -> str:
    def is_phone(start: int, end: int) -> bool:
        candidate = text[start:end]
        return 7 <= sum(map(str.isdigit, candidate)) <= 15 and not DATE.fullmatch(candidate)

    return _masked(text, (span for span in phone_candidates(text) if is_phone(*span)), TOKENS["phone"])


def email_spans(text: str) -> Iterator[tuple[int, int]]:
    """Where ``text`` holds e-mail addresses, left to right, as ``EMAIL.finditer`` would find them."""
    match = EMAIL_AT_RUN_START.search(text)
    while match:
        yield match.span()
        # a match may end inside a run of local-part characters (a@b.cc.d@e.ff): the next may start right there
        match = EMAIL.match(text, match.end()) or EMAIL_AT_RUN_START.search(text, match.end())


def _redact_emails(text: str) -> str:
    return _masked(text, email_spans(text), TOKENS["email"])


# e-mails first (their local part may hold digits), IBANs before cards (an IBAN holds a long digit run),
# cards before phones (a card in groups of four looks like a phone number)
_ORDER: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("email", _redact_emails), ("iban", _redact_ibans), ("card", _redact_cards), ("phone", _redact_phones),
)


class Redactor:
    """Replaces personal data of the chosen kinds, and anything the configured patterns match, with tokens."""

    def __init__(self, kinds: Iterable[str] = KINDS, patterns: Sequence[str] = ()) -> None:
        self.kinds = check_kinds(kinds)
        self.patterns = compile_patterns(patterns)
        self._steps = [step for kind, step in _ORDER if kind in self.kinds]

    def __repr__(self) -> str:
        return f"Redactor(kinds={self.kinds!r}, patterns={[p.pattern for p in self.patterns]!r})"

    def redact(self, text: str) -> str:
        """``text`` with every match replaced by ``[CARD]``, ``[EMAIL]``, ``[PHONE]``, ``[IBAN]`` or ``[REDACTED]``.

        Linear in the length of ``text``: see the module docstring.
        """
        for step in self._steps:
            text = step(text)
        for pattern in self.patterns:
            text = pattern.sub(PATTERN_TOKEN, text)
        return text
