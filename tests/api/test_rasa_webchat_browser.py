"""The third-party rasa-webchat widget (npm, ``tests/webchat``) on a page of another origin, connected unchanged to
the Rasa socket.io channel of a real server, in headless Chromium: it asks, gets the answer and the suggestions,
keeps its conversation over a reload, and gets an agent's reply after a handoff."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.api.rasa_channels import Agent, conversation_named
from tests.api.widget_page import REFUND_QUESTION, REFUND_TIMING, site_on_another_origin
from tests.servers import ROOT, LiveServer

pytestmark = pytest.mark.browser

WEBCHAT_JS = ROOT / "tests" / "webchat" / "node_modules" / "rasa-webchat" / "lib" / "index.js"
ANSWER_TIMEOUT_MS = 30_000  # the widget shows each message after a typing delay of up to 3 s

# The page a company's site already has for Rasa: rasa-webchat's UMD bundle, started as Rasa's docs show.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Northwind Outfitters</title></head>
<body><h1>Northwind Outfitters</h1>
<div id="webchat"></div>
<script src="/rasa-webchat.js"></script>
<script>
  WebChat.default({
    selector: "#webchat",
    customData: {language: "en"},
    socketUrl: SERVER,
    socketPath: "/socket.io/",
    title: "Northwind",
    params: {storage: "local"}
  }, null);
</script>
</body></html>
"""


@pytest.fixture
def server(channels_server: LiveServer) -> LiveServer:
    """The channels' server (the demo company, with its Rasa side)."""
    return channels_server


@pytest.fixture
def site(server: LiveServer) -> Iterator[str]:
    """The company's site, on an origin of its own (a port of this machine, which the demo's defaults allow)."""
    if not WEBCHAT_JS.exists():
        pytest.fail(f"rasa-webchat is not installed at {WEBCHAT_JS}: run `make webchat` (npm ci in tests/webchat)",
                    pytrace=False)
    page = PAGE.replace("SERVER", json.dumps(server.url)).encode()
    bundle = WEBCHAT_JS.read_bytes()

    with site_on_another_origin(page, {"/rasa-webchat.js": (bundle, "text/javascript")}) as url:
        yield url


def responses(page: Page) -> Locator:
    """The bot's messages shown (not the typing indicator, which looks like one)."""
    return page.locator(".rw-message:not(.rw-typing-indication) .rw-response")


def ask(page: Page, text: str) -> None:
    box = page.locator(".rw-new-message")
    box.fill(text)
    box.press("Enter")


def session_of(page: Page) -> str:
    stored = page.evaluate("() => localStorage.getItem('chat_session')")
    assert stored, "rasa-webchat stored no session"
    session_id: str = json.loads(stored)["session_id"]
    return session_id


def test_rasa_webchat_talks_to_helpline_unchanged(page: Page, site: str, server: LiveServer) -> None:
    page.goto(site)
    page.locator(".rw-launcher").click()
    expect(page.locator(".rw-new-message")).to_be_visible()

    ask(page, REFUND_QUESTION)
    expect(responses(page).last).to_contain_text(REFUND_TIMING, timeout=ANSWER_TIMEOUT_MS)

    ask(page, "tell me a joke")  # the bot falls back with the closest questions, as quick replies
    replies = page.locator(".rw-replies .rw-reply")
    expect(replies.first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    assert replies.count() >= 2
    answered = responses(page).count()
    replies.first.click()  # sends the question as the customer's message: the bot answers it
    expect(responses(page)).to_have_count(answered + 1, timeout=ANSWER_TIMEOUT_MS)
    session = session_of(page)
    conversation = conversation_named(server, "socketio", session)
    last = responses(page).last.inner_text()[:24]
    # the widget writes its conversation to localStorage a moment after showing it
    page.wait_for_function("said => (localStorage.getItem('chat_session') || '').includes(said)", arg=last)

    page.reload()  # the widget keeps its conversation, and the server the same session
    expect(page.locator(".rw-client").first).to_contain_text(REFUND_QUESTION)
    expect(responses(page).nth(0)).to_contain_text(REFUND_TIMING)
    if not page.locator(".rw-new-message").is_visible():
        page.locator(".rw-launcher").click()
    ask(page, "I want to talk to a person")
    expect(responses(page)).to_have_count(answered + 2, timeout=ANSWER_TIMEOUT_MS)  # the handoff's words
    assert session_of(page) == session
    assert conversation_named(server, "socketio", session) == conversation

    with Agent.login(server) as maya:
        texts = [m["text"] for m in maya.messages(conversation) if m["role"] == "customer"]
        assert texts[0] == REFUND_QUESTION and texts[-1] == "I want to talk to a person"
        maya.take_over(conversation)
        maya.say(conversation, "Hi, I'm Maya. How can I help?")
        expect(responses(page).last).to_contain_text("Hi, I'm Maya. How can I help?", timeout=ANSWER_TIMEOUT_MS)
