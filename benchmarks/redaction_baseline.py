"""The redactor as it was before it ran in linear time, kept verbatim as ``benchmarks.redaction``'s baseline.

Not for use: a message of 1,000 one-digit groups costs it seconds, and its patterns run on Python's
backtracking engine. The tests compare the new redactor's output with this one's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

KINDS = ("card", "email", "phone", "iban")
TOKENS = {"card": "[CARD]", "email": "[EMAIL]", "phone": "[PHONE]", "iban": "[IBAN]"}
PATTERN_TOKEN = "[REDACTED]"

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# Runs of digit groups joined by one space or dash; a card is 13-19 digits of such a run.
DIGIT_RUN = re.compile(r"(?<![\w-])\d+(?:[ -]\d+)*(?![\w])")
# A country code, two check digits, then 11-30 letters and digits, compact or in groups.
IBAN_CANDIDATE = re.compile(r"\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}\b")
_SEP = r"[ .-]?"
PHONE_CANDIDATE = re.compile(
    r"(?<![\w#/+.,-])(?:"
    rf"\+\d{{1,3}}{_SEP}(?:\(\d{{1,4}}\){_SEP})?\d{{1,4}}(?:{_SEP}\d{{1,4}}){{1,5}}"  # +44 (0)20 7946 0958
    rf"|\(\d{{2,5}}\){_SEP}\d{{2,4}}(?:{_SEP}\d{{2,4}}){{1,3}}"  # (020) 7946 0958
    rf"|0\d{{1,4}}(?:{_SEP}\d{{2,4}}){{1,4}}"  # 06 12 34 56 78, 030 1234567
    r"|\d{3}[ .-]\d{3}[ .-]\d{4}"  # 555-123-4567
    r")(?![\w-])"
)
DATE = re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2}")


class InvalidPattern(ValueError):
    """A configured redaction pattern that is not a valid regular expression."""


class UnknownKind(ValueError):
    """A redaction kind other than card, email, phone and iban."""


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check that every payment card number passes."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(compact: str) -> bool:
    """Whether an IBAN without spaces passes the ISO 13616 mod-97 check."""
    compact = compact.upper()
    if not (15 <= len(compact) <= 34 and compact[:2].isalpha() and compact[2:4].isdigit() and compact.isalnum()):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    """Compile configured patterns, naming the one that is not a valid regular expression."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise InvalidPattern(f"redaction pattern {pattern!r} is not a valid regular expression: {exc}") from exc
    return compiled


def check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """The kinds, stripped and deduplicated in order; an unknown one raises ``UnknownKind``."""
    cleaned = tuple(dict.fromkeys(kind.strip().lower() for kind in kinds if kind.strip()))
    unknown = [kind for kind in cleaned if kind not in KINDS]
    if unknown:
        raise UnknownKind(f"unknown redaction kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
    return cleaned


def _redact_cards(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        groups = [(g.start(), g.end()) for g in re.finditer(r"\d+", run)]
        spans: list[tuple[int, int]] = []
        i = 0
        while i < len(groups):  # left to right, the longest Luhn-valid stretch of whole groups with 13-19 digits
            for size in range(len(groups) - i, 0, -1):
                first, last = groups[i][0], groups[i + size - 1][1]
                digits = re.sub(r"\D", "", run[first:last])
                if 13 <= len(digits) <= 19 and luhn_valid(digits):
                    spans.append((first, last))
                    i += size
                    break
            else:
                i += 1
        for first, last in reversed(spans):
            run = run[:first] + TOKENS["card"] + run[last:]
        return run

    return DIGIT_RUN.sub(replace, text)


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
    def replace(match: re.Match[str]) -> str:
        candidate = match.group(0)
        digits = sum(char.isdigit() for char in candidate)
        if not 7 <= digits <= 15 or DATE.fullmatch(candidate):
            return candidate
        return TOKENS["phone"]

    return PHONE_CANDIDATE.sub(replace, text)


def _redact_emails(text: str) -> str:
    return EMAIL.sub(TOKENS["email"], text)


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
        """``text`` with every match replaced by ``[CARD]``, ``[EMAIL]``, ``[PHONE]``, ``[IBAN]`` or ``[REDACTED]``."""
        for step in self._steps:
            text = step(text)
        for pattern in self.patterns:
            text = pattern.sub(PATTERN_TOKEN, text)
        return text
