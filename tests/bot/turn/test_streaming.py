from bot.turn.streaming import chunks


def test_chunks_rebuild_the_reply_exactly() -> None:
    text = "Refunds reach your account within 5-7 business days  after the return arrives.\nThanks!"
    pieces = list(chunks(text, 3))
    assert "".join(pieces) == text
    assert len(pieces) == 5


def test_one_word_reply_is_one_chunk() -> None:
    assert list(chunks("Hello!", 4)) == ["Hello!"]
