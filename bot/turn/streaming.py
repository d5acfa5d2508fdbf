"""Cut a reply into the chunks that stream to the widget."""

from __future__ import annotations

import re
from collections.abc import Iterator

TOKENS = re.compile(r"\S+\s*")


def chunks(text: str, words_per_chunk: int) -> Iterator[str]:
    """Yield pieces of ``text`` of a few words each; joined, they give ``text`` back exactly."""
    leading = text[: len(text) - len(text.lstrip())]
    words = TOKENS.findall(text)
    if not words:
        yield text
        return
    words[0] = leading + words[0]
    for start in range(0, len(words), words_per_chunk):
        yield "".join(words[start : start + words_per_chunk])
