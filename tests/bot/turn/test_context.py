from datetime import UTC, datetime, timedelta

from bot.store.transcripts import PastTurn
from bot.turn.context import antecedent, is_follow_up


def turn(text: str, route: str, minutes_ago: float = 1) -> PastTurn:
    return PastTurn(text, "refunds", route, "refund-time", datetime.now(UTC) - timedelta(minutes=minutes_ago))


def test_short_referring_messages_are_follow_ups() -> None:
    assert is_follow_up("how long does that take?")
    assert is_follow_up("And for express?")
    assert not is_follow_up("How long does a refund take?")
    assert not is_follow_up("Do you ship to Norway and how much does it cost when I order three tents at once?")


def test_follow_up_leans_on_the_last_faq_turn() -> None:
    recent = [turn("thanks", "smalltalk"), turn("I returned my boots, when is my refund?", "faq")]
    assert antecedent("how long does that take?", recent) == recent[1]


def test_no_antecedent_after_a_long_pause_or_without_faq_turn() -> None:
    assert antecedent("how long does that take?", [turn("refund?", "faq", minutes_ago=90)]) is None
    assert antecedent("how long does that take?", [turn("hi", "smalltalk")]) is None
    assert antecedent("Do you sell gift cards?", [turn("refund?", "faq")]) is None
