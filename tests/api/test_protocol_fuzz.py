"""The customer socket under fuzzed frames (``tests/protocol_frames.py``), from outside: a real server on
PostgreSQL, a real client on 127.0.0.1 (``tests/protocol_fuzz.py`` drives it).

After every batch the socket still answers a valid message, the server's log has no traceback or ``ERROR``,
no frame got an ``internal`` error, and the server closed sockets only as the frames asked (1009 for a frame
over the protocol's limit, 1007 for a text frame that is not UTF-8, 4401 for a wrong resume token). A
failing batch is shrunk by hypothesis to the frames that break the server. The regression cases below are
what the fuzzing found.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from tests.api.wsclient import Customer
from tests.protocol_frames import Frame, frames, handshake_frames
from tests.protocol_fuzz import (
    Fuzzer,
    LogWatch,
    stored_checks,
    stored_messages,
    stored_texts,
)
from tests.servers import LiveServer, postgres_database, start_server, stop_server

# the per-socket limits out of the way, so that the frames reach the parser and the handlers
RAISED_LIMITS = {"HELPLINE_MESSAGES_PER_MINUTE": "1000000", "HELPLINE_TYPING_PER_MINUTE": "1000000",
                 "HELPLINE_FEEDBACK_PER_MINUTE": "1000000", "HELPLINE_FRAME_BURST": "100000",
                 "HELPLINE_STREAM_DELAY_MS": "0"}



@pytest.fixture(scope="module")
def fuzz_database() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def fuzz_server(demo_data_dir: Path, fuzz_database: str,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("fuzz")
    live = start_server(demo_data_dir, fuzz_database, workdir / "server.log",
                        HELPLINE_JOURNAL_PATH=str(workdir / "journal.db"), **RAISED_LIMITS)
    yield live
    stop_server(live)


def fuzz(fuzzer: Fuzzer, examples: int) -> None:
    """``examples`` steps, each checked as it ends; hypothesis shrinks a step that leaves a problem."""
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(opening=st.lists(handshake_frames(), max_size=4), batch=st.lists(frames(), min_size=20, max_size=60),
           new=st.booleans())
    def every_step_leaves_the_server_clean(opening: list[Frame], batch: list[Frame], new: bool) -> None:
        problems = fuzzer.step(opening + batch, len(opening), new)
        assert not problems, "\n\n".join(problems)

    try:
        every_step_leaves_the_server_clean()
    finally:
        fuzzer.close()


def test_fuzzed_frames_leave_the_server_clean_the_socket_usable_and_every_answer_stored(
        fuzz_server: LiveServer, fuzz_database: str) -> None:
    fuzzer = Fuzzer(fuzz_server.ws_url, fuzz_server.log)
    fuzz(fuzzer, examples=100)
    tally = fuzzer.tally
    assert tally.total >= 2000 and tally.checks >= 100 and not tally.problems
    assert set(tally.frames) >= {"message, valid", "feedback, valid", "typing, valid", "odd unicode in a field"}
    stored = stored_checks(fuzz_database, tally.conversations)
    assert sorted(stored) == sorted(tally.answered), "an answered check message is missing or stored twice"
    assert stored_messages(fuzz_database, tally.conversations) >= tally.acknowledged
    assert fuzzer.session is not None
    with Customer.open(fuzz_server.ws_url, *fuzzer.session) as again:  # the history reads back
        history = again.session["history"]
    assert [item["text"] for item in history if item["role"] == "customer"][-1] == fuzzer.last_check


# What the fuzzing found, as the frames that showed it (JSON text: escapes carry a NUL or a lone surrogate).

@pytest.mark.parametrize(("text", "stored"), [
    (r"refund\u0000 please", "refund\ufffd please"),
    (r"refund \ud83d please", "refund \ufffd please"),  # half an emoji, as a widget that cut one sends
], ids=["NUL", "lone surrogate"])
def test_a_message_with_a_nul_or_a_lone_surrogate_is_stored_and_answered(
        fuzz_server: LiveServer, fuzz_database: str, text: str, stored: str) -> None:
    """PostgreSQL refuses NUL in text, UTF-8 cannot carry a lone surrogate: the turn failed (``internal``, or
    ``bad_field``) and the message was lost. Now each becomes U+FFFD."""
    watch = LogWatch(fuzz_server.log)
    with Customer.open(fuzz_server.ws_url) as customer:
        customer.send('{"type":"message","text":"' + text + '","id":"odd"}')
        assert customer.read_reply().start["in_reply_to"] == "odd"
        conversation = customer.session["conversation_id"]
    assert stored_texts(fuzz_database, conversation) == [stored]
    assert not watch.new_errors()


FOUND = [
    # an id the error frame named could not be sent back (UTF-8 cannot carry a lone surrogate): `internal`
    pytest.param(r'{"type":"message","text":"hi","id":"\udfff"}', "bad_field", id="lone surrogate in an id"),
    pytest.param(r'{"type":"message","text":"' + "x" * 2001 + r'","id":"\ud800"}', "text_too_long",
                 id="lone surrogate in the id of a message too long"),
    # PostgreSQL refused the id (the turn failed, `internal`) or the reply id (the frame failed, `internal`)
    pytest.param(r'{"type":"message","text":"hi","id":"a\u0000"}', "bad_field", id="NUL in an id"),
    pytest.param(r'{"type":"feedback","reply_id":"r\u0000","rating":"up"}', "bad_field", id="NUL in a reply id"),
    # the write spool logged every write refused as an ERROR with its traceback
    pytest.param('{"type":"feedback","reply_id":"no-such-reply","rating":"up"}', "unknown_reply",
                 id="feedback on an unknown reply"),
    # the error message quoted a type of any length: 16 kB of frame, up to 160 kB of answer
    pytest.param(json.dumps({"type": "\x01" * 2500}), "unknown_type", id="a long unknown type"),
    pytest.param('{"type":' + "[" * 900 + "]" * 900 + "}", "unknown_type", id="a type nested deep"),
]


@pytest.mark.parametrize(("frame", "code"), FOUND)
def test_what_the_fuzzing_found_is_refused_cleanly_and_the_socket_goes_on(fuzz_server: LiveServer, frame: str,
                                                                         code: str) -> None:
    watch = LogWatch(fuzz_server.log)
    with Customer.open(fuzz_server.ws_url) as customer:
        customer.send(frame)
        error = customer.receive()
        assert error["type"] == "error" and error["code"] == code and len(error["message"]) < 200, error
        assert "in_reply_to" not in error, error  # an id no message could have is never named
        assert customer.ask("Do you ship to Norway?").end["text"]
    assert not watch.new_errors()


@pytest.mark.parametrize("frame", [
    r'{"type":"resume","conversation_id":"c\u0000","token":"t"}',  # PostgreSQL refused it: close 1011, a traceback
    r'{"type":"resume","conversation_id":"c","token":"t\u0000"}',
    r'{"type":"resume","conversation_id":"\udc00","token":"t"}',
], ids=["NUL in a conversation id", "NUL in a token", "lone surrogate in a conversation id"])
def test_what_the_fuzzing_found_before_start_is_refused_and_the_socket_may_start(fuzz_server: LiveServer,
                                                                                 frame: str) -> None:
    watch = LogWatch(fuzz_server.log)
    with Customer.connect(fuzz_server.ws_url) as customer:
        customer.send(frame)
        assert customer.receive()["code"] == "bad_field"
        customer.send({"type": "start"})
        assert customer.receive()["type"] == "session"
    assert not watch.new_errors()


def test_a_text_frame_that_is_not_utf8_is_closed_with_1007_and_logs_no_error(fuzz_server: LiveServer) -> None:
    watch = LogWatch(fuzz_server.log)
    with Customer.open(fuzz_server.ws_url) as customer:
        customer.ws.send(b'{"type":"message","text":"\xff"}', text=True)
        with pytest.raises(ConnectionClosed) as closed:
            customer.receive(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
    assert not watch.new_errors()  # uvicorn logged it as an ERROR with a traceback
