"""Hypothesis strategies for the customer socket's frames, as they go on the wire.

Every frame type the server reads (``api/protocol.py``) with each field valid, wrong (another JSON type, null,
huge, odd unicode, numbers too long to read, NaN and Infinity, nesting thousands deep), missing, or beside
extra fields; JSON of any shape; text that is not JSON; bytes in binary frames and in text frames that are
not UTF-8; empty frames; and frames past the server's limits (an error frame up to four times
``HELPLINE_MAX_FRAME_BYTES``, the protocol's close 1009 beyond). Fields are built as JSON text, not from
Python values, so a frame may hold what ``json.dumps`` refuses to write (a 5,000-digit number, nesting
10,000 deep). Shared by ``tests/api/test_protocol_fuzz.py`` and ``benchmarks/fuzz_protocol.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

MAX_FRAME_BYTES = 16384  # the server's default HELPLINE_MAX_FRAME_BYTES
PROTOCOL_LIMIT = 4 * MAX_FRAME_BYTES  # api/cli.py: uvicorn's ws_max_size; a bigger frame is closed with 1009
MESSAGE_CHARS = 2000  # the default HELPLINE_MAX_MESSAGE_CHARS
TOO_BIG_CLOSE = 1009
NOT_UTF8_CLOSE = 1007

# Stand-ins the driver replaces with what this socket knows: a reply of its conversation (feedback that can
# be stored), and the conversation's id and token (a resume that can succeed, or fail on one wrong field).
REPLY_ID, CONVERSATION_ID, TOKEN = "@@reply-id@@", "@@conversation-id@@", "@@token@@"


@dataclass(frozen=True)
class Frame:
    """One frame as it goes on the wire, and the category it is counted under."""

    category: str
    data: str | bytes
    binary: bool = False  # bytes in a binary frame; bytes that are not (``data`` is not UTF-8) go in a text frame

    @property
    def size(self) -> int:
        return len(self.data.encode()) if isinstance(self.data, str) else len(self.data)

    @property
    def close_code(self) -> int | None:
        """The close this frame is allowed to cause: over the protocol's limit, or a text frame not UTF-8."""
        if self.size > PROTOCOL_LIMIT:
            return TOO_BIG_CLOSE
        if isinstance(self.data, bytes) and not self.binary:
            return NOT_UTF8_CLOSE
        return None


def dumps(value: Any, ascii_only: bool = False) -> str:
    """JSON text for ``value``; escaped when it holds lone surrogates, which only escapes can carry."""
    try:
        text = json.dumps(value, ensure_ascii=ascii_only)
        text.encode()
    except UnicodeEncodeError:
        text = json.dumps(value)
    return text


def obj(fields: list[tuple[str, str]]) -> str:
    """A JSON object from (key, JSON text) pairs, in order; a key may repeat."""
    return "{" + ",".join(f"{dumps(key)}:{value}" for key, value in fields) + "}"


# -- values ---------------------------------------------------------------------------------------------

# characters that have broken parsers, databases, terminals and logs: NUL and other controls, lone surrogates
# (JSON can carry them escaped), right-to-left overrides, byte-order marks, non-characters, the last code
# point, combining marks, emoji with modifiers, line separators, and text that means something elsewhere
ODD_CHARACTERS = [
    "\x00", "\x01", "\x1b", "\x7f", "\ud800", "\udbff", "\udc00", "\udfff", "\u202e", "\u202d", "\u200f",
    "\u2066", "\u200b", "\ufeff", "\ufffe", "\uffff", "\U0010ffff", "\u0301", "\U0001f44d\U0001f3fd", "\u2028",
    "\n", "\r", "\t", "\\", '"', "'", "</script>", "' OR 1=1 --", "%s%n", "${jndi:ldap://x}", "{{7*7}}",
    "\u0627\u0644\u0633\u0644\u0627\u0645", "\u65e5\u672c", " ",
]
SIZES = [0, 1, 63, 64, 65, 128, 129, MESSAGE_CHARS - 1, MESSAGE_CHARS, MESSAGE_CHARS + 1, MAX_FRAME_BYTES - 64,
         MAX_FRAME_BYTES, MAX_FRAME_BYTES + 1, PROTOCOL_LIMIT - 64, PROTOCOL_LIMIT + 1, 70_000]
NESTING = [2, 10, 100, 500, 999, 1000, 1001, 2000, 5000, 8000, 10_000, 30_000]


ODD_STRINGS = st.lists(st.sampled_from(ODD_CHARACTERS) | st.characters(codec=None), min_size=1,
                       max_size=12).map("".join)
# one unit repeated to a size near the limits, or to any size up to past the protocol's
HUGE_STRINGS = st.builds(lambda unit, n: (unit * (n // len(unit) + 1))[:n],
                         st.sampled_from(["x", " ", "\u00e9", "\u202e", "\U0001f600", "ab "]),
                         st.sampled_from(SIZES) | st.integers(0, PROTOCOL_LIMIT + 4096))
STRINGS = st.text() | ODD_STRINGS | HUGE_STRINGS
# JSON numbers: what JSON text allows and Python will not read (over 4,300 digits), and NaN and Infinity,
# which Python's parser takes and strict JSON does not
NUMBERS = st.one_of(
    st.integers().map(dumps), st.floats(allow_nan=False, allow_infinity=False).map(dumps),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "-0", "1e400", "-1e-400", "0.1e99999", "1E+2",
                     "123456789012345678901234567890"]),
    st.builds(lambda sign, digits: sign + "9" * digits, st.sampled_from(["", "-"]),
              st.sampled_from([300, 4300, 4301, 5000, 20_000]) | st.integers(1, 6000)),
)
SCALARS = st.one_of(st.none().map(dumps), st.booleans().map(dumps), NUMBERS, st.builds(dumps, STRINGS, st.booleans()))
# arrays or objects nested up to 30,000 deep, far past what json.loads recurses into
NESTED = st.builds(lambda d, arrays, inner: ("[" * d + inner + "]" * d) if arrays else ('{"a":' * d + inner + "}" * d),
                   st.sampled_from(NESTING) | st.integers(1, 12_000), st.booleans(), SCALARS)
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                           lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=5),
                           max_leaves=20)
# JSON text of any value: a field's wrong value
ANY_VALUE = st.one_of(SCALARS, NESTED, st.builds(dumps, JSON_VALUES, st.booleans()))


# -- frame types ------------------------------------------------------------------------------------------

QUESTIONS = ["How long does a refund take?", "Do you ship to Norway?", "Can I pay with PayPal?", "hello there",
             "I want to talk to a person", "Where is my parcel?", "thanks, bye"]
valid_text = st.sampled_from(QUESTIONS) | st.text(min_size=1, max_size=200).map(lambda t: f"q {t}")
# the valid JSON text of each field of each frame type the server reads
FIELDS: dict[str, dict[str, st.SearchStrategy[str]]] = {
    "message": {"text": st.builds(dumps, valid_text, st.booleans()),
                "id": st.builds(dumps, st.none() | st.text(max_size=64), st.booleans()),
                # what a page passes on to the Rasa tracker: any JSON object, or nothing
                "metadata": st.builds(dumps, st.none() | st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4),
                                      st.booleans())},
    "feedback": {"reply_id": st.just(dumps(REPLY_ID)) | st.text(min_size=1, max_size=64).map(dumps),
                 "rating": st.sampled_from(['"up"', '"down"'])},
    "typing": {"active": st.sampled_from(["true", "false"])},
    "ping": {},
    "start": {},
    "resume": {"conversation_id": st.just(dumps(CONVERSATION_ID)) | st.text(min_size=1, max_size=64).map(dumps),
               "token": st.just(dumps(TOKEN)) | st.text(min_size=1, max_size=128).map(dumps)},
}
KINDS = list(FIELDS)
ANY_KIND = st.sampled_from(KINDS)
WRONG_TYPES = ["Message", "MESSAGE", " message", "message ", "mess\u0430ge", "message\x00", "pong", "error",
               "session", "reply.start", "", "null"]
ALTERATIONS = {True: st.sampled_from(["valid", "wrong", "missing", "extra", "shuffled"]),
               False: st.sampled_from(["valid", "extra", "shuffled"])}
EXTRA_FIELD = st.tuples(st.sampled_from(["type", "id", "text", "__proto__", "constructor"]) | st.text(max_size=10),
                        ANY_VALUE)


@st.composite
def typed_frames(draw: st.DrawFn, kinds: st.SearchStrategy[str] = ANY_KIND) -> Frame:
    """A frame of a type the server reads: valid (fields in any order), or with one field wrong or missing, or
    beside extra fields (a repeated ``type`` among them)."""
    kind = draw(kinds)
    fields = [("type", dumps(kind))] + [(name, draw(value)) for name, value in FIELDS[kind].items()]
    how = draw(ALTERATIONS[len(fields) > 1])
    if how == "wrong":
        at = draw(st.integers(1, len(fields) - 1))
        fields[at] = (fields[at][0], draw(ANY_VALUE))
    elif how == "missing":
        del fields[draw(st.integers(1, len(fields) - 1))]
    elif how == "extra":
        fields += draw(st.lists(EXTRA_FIELD, min_size=1, max_size=4))
    elif how == "shuffled":
        fields = draw(st.permutations(fields))
    return Frame(f"{kind}, {'valid' if how in ('valid', 'shuffled') else 'malformed'}", obj(fields))


@st.composite
def odd_unicode_frames(draw: st.DrawFn) -> Frame:
    """A frame of a type the server reads with one of its fields (or ``id``) made of surrogates, NUL,
    right-to-left overrides and the like; its other fields valid."""
    kind = draw(ANY_KIND)
    fields = {"type": dumps(kind)} | {name: draw(value) for name, value in FIELDS[kind].items()}
    name = draw(st.sampled_from([*FIELDS[kind], "id"]))
    fields[name] = dumps(draw(ODD_STRINGS), draw(st.booleans()))
    return Frame("odd unicode in a field", obj(list(fields.items())))


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def _padded(size: int, where: str) -> Frame:
    """A message frame of ``size`` bytes, padded in its text or in a field of its own."""
    head = '{"type":"message","text":"How long does a refund take?","id":"big",' + f'"{where}":"'
    body = head + "x" * max(0, size - len(head) - 2) + '"}'
    category = ("over the protocol's limit (close 1009)" if len(body) > PROTOCOL_LIMIT
                else "over the frame limit" if len(body) > MAX_FRAME_BYTES else "near the frame limit")
    return Frame(category, body)


WRONG_TYPE_FRAMES = st.builds(
    lambda kind, rest: Frame("unknown or wrong type", obj([("type", kind), *rest])),
    st.sampled_from([dumps(t) for t in WRONG_TYPES]) | ANY_VALUE,
    st.lists(st.tuples(st.text(max_size=10), ANY_VALUE), max_size=3))
RANDOM_JSON_FRAMES = st.builds(lambda value, ascii_only: Frame("random JSON", dumps(value, ascii_only)),
                               JSON_VALUES, st.booleans())
NOT_JSON_FRAMES = st.builds(lambda text: Frame("not JSON, or not an object", text), st.sampled_from([
    "{", "}", "{not json", '{"type":"message","text":"hi"', "{'type':'ping'}", '{"type":"ping",}', "\x00",
    "\ufeff{}", 'null{"type":"ping"}', '{"a":1}{"b":2}', "[1, 2]", '"ping"', "true", "0", " ",
    '{"type":"message","text":"a\x00b"}']) | st.text(min_size=1).filter(_not_json))
NUMBER_FRAMES = st.builds(lambda kind, name, number: Frame("long numbers, NaN and Infinity",
                                                           obj([("type", dumps(kind)), (name, number)])),
                          ANY_KIND, st.sampled_from(["text", "id", "active", "rating", "reply_id", "x"]), NUMBERS)
NESTING_FRAMES = NESTED.map(lambda text: Frame("nested thousands deep", text)) | st.builds(
    lambda kind, name, value: Frame("nested thousands deep", obj([("type", dumps(kind)), (name, value)])),
    ANY_KIND, st.sampled_from(["text", "id", "active", "type", "x"]), NESTED)
# just under, at and over the server's frame limit, and over the protocol's (closed with 1009)
SIZE_FRAMES = st.builds(_padded, st.sampled_from([MAX_FRAME_BYTES - 1, MAX_FRAME_BYTES, MAX_FRAME_BYTES + 1,
                                                  PROTOCOL_LIMIT, PROTOCOL_LIMIT + 1])
                        | st.integers(MAX_FRAME_BYTES - 512, PROTOCOL_LIMIT + 2048), st.sampled_from(["pad", "text"]))
BINARY_FRAMES = st.builds(lambda data: Frame("binary", data, binary=True), st.one_of(
    st.binary(max_size=256),
    st.builds(lambda unit, n: unit * n, st.binary(min_size=1, max_size=4),
              st.sampled_from([MAX_FRAME_BYTES + 1, PROTOCOL_LIMIT // 4, PROTOCOL_LIMIT // 2 + 1])),
    st.builds(lambda kind: obj([("type", dumps(kind)), ("text", '"hi"')]).encode(), ANY_KIND)))
# text frames whose bytes are not UTF-8 (whatever comes before, these never are): the protocol closes with 1007
NOT_UTF8_FRAMES = st.builds(
    lambda before, junk: Frame("text frame not UTF-8 (close 1007)", b'{"type":"message","text":"' + before + junk
                               + b'"}'),
    st.binary(max_size=8).map(lambda b: b.replace(b"\\", b"").replace(b'"', b"")),
    st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80"]))
EMPTY_FRAMES = st.sampled_from([Frame("empty", ""), Frame("empty", b"", binary=True), Frame("empty", "{}"),
                                Frame("empty", '{"type":""}'), Frame("empty", "   ")])

# how often each family comes up, in parts of the sum (typed frames most: they reach the handlers)
FAMILIES: list[tuple[int, st.SearchStrategy[Frame]]] = [
    (40, typed_frames()), (6, WRONG_TYPE_FRAMES), (8, RANDOM_JSON_FRAMES), (6, NOT_JSON_FRAMES), (5, NUMBER_FRAMES),
    (4, NESTING_FRAMES), (8, odd_unicode_frames()), (3, SIZE_FRAMES), (4, BINARY_FRAMES), (1, NOT_UTF8_FRAMES),
    (3, EMPTY_FRAMES),
]
_FAMILY = st.integers(0, sum(weight for weight, _ in FAMILIES) - 1)


@st.composite
def frames(draw: st.DrawFn) -> Frame:
    """Any frame, from the families above by their weights."""
    pick = draw(_FAMILY)
    for weight, family in FAMILIES:
        if pick < weight:
            return draw(family)
        pick -= weight
    raise AssertionError("unreachable")


def session_frames() -> st.SearchStrategy[Frame]:
    """``start`` and ``resume`` (with the conversation's id or another, its token or another), right or wrong."""
    return typed_frames(st.sampled_from(["start", "resume"]))


def handshake_frames() -> st.SearchStrategy[Frame]:
    """The first frames of a socket: a start or resume frame half the time, else any frame."""
    return session_frames() | frames()
