"""Short follow-ups ("how long does that take?") lean on the conversation's recent FAQ turn."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.store.transcripts import PastTurn

WORD = re.compile(r"[a-z']+")
# words that point back at something said before
ANAPHORA = frozenset({"that", "it", "this", "those", "these", "them", "they", "there", "one", "same", "its"})
OPENERS = ("and ", "also ", "what about", "how about", "and what", "what if", "but ")
MAX_FOLLOW_UP_WORDS = 8
MAX_GAP = timedelta(minutes=30)


def is_follow_up(text: str) -> bool:
    """A short message that refers back ("that", "it", "what about …") rather than standing alone."""
    lowered = text.lower().strip()
    words = WORD.findall(lowered)
    if not words or len(words) > MAX_FOLLOW_UP_WORDS:
        return False
    return lowered.startswith(OPENERS) or any(w in ANAPHORA for w in words)


def antecedent(text: str, recent: list[PastTurn], now: datetime | None = None) -> PastTurn | None:
    """The recent FAQ turn that a follow-up refers to, if ``text`` is one."""
    if not recent or not is_follow_up(text):
        return None
    now = now or datetime.now(UTC)
    for turn in recent:  # newest first
        created = turn.created_at if turn.created_at.tzinfo else turn.created_at.replace(tzinfo=UTC)
        if now - created > MAX_GAP:
            return None
        if turn.route == "faq":
            return turn
    return None
