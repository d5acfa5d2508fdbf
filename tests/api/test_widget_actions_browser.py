"""The widget in headless Chromium with custom actions: several replies to one message, buttons, images and
custom payloads. A real server for a company with a Rasa side, the real rasa-sdk action server behind it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.api.rasa_company import rasa_company
from tests.api.widget_page import answered, ask, bot_messages, customer_messages, open_demo
from tests.servers import ActionServerProcess, LiveServer, start_server, stop_server

pytestmark = pytest.mark.browser

# The smallest PNG there is (1x1, transparent), served for the image a mocked reply shows.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def rasa_server(tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path,
                action_server: ActionServerProcess) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("rasa-widget")
    data_dir = rasa_company(root, demo_data_dir)
    server = start_server(data_dir, f"sqlite:///{root / 'helpline.db'}", root / "server.log",
                          HELPLINE_ACTION_ENDPOINT_URL=action_server.url, HELPLINE_STREAM_DELAY_MS="0")
    yield server
    stop_server(server)


def texts(page: Page) -> list[str]:
    """Every message in the log, in order, as ``role: text``."""
    nodes = page.locator('[data-testid="helpline-message"]')
    return [f"{node.get_attribute('data-role')}: {node.get_by_test_id('helpline-message-text').inner_text()}"
            for node in nodes.all()]


def test_the_return_form_in_the_widget(page: Page, rasa_server: LiveServer) -> None:
    open_demo(page, rasa_server)

    ask(page, "/return_item")  # a button payload: the classifier is bypassed
    asked = answered(page, 1)
    expect(asked).to_contain_text("Which order")
    expect(asked).to_have_attribute("data-route", "action")
    expect(asked).to_have_attribute("data-action", "return_form")

    ask(page, "9999")  # refused, then asked again: two bubbles, in order, after the message
    expect(answered(page, 3)).to_contain_text("Which order")
    said, refused, again = texts(page)[-3:]
    assert said == "customer: 9999" and "can't find an order 9999" in refused and "bot: Which order" in again

    ask(page, "3302")
    expect(answered(page, 4)).to_contain_text("reason")
    ask(page, "the boots are too small")
    confirm = answered(page, 5)
    expect(confirm).to_contain_text("Shall I register the return of order 3302?")
    buttons = confirm.get_by_test_id("helpline-button")
    expect(buttons).to_have_text(["Yes, please", "No"])
    expect(page.get_by_test_id("helpline-typing")).to_be_hidden()

    buttons.first.click()
    expect(customer_messages(page).last).to_have_text("Yes, please")  # the title, not "/affirm"
    expect(answered(page, 6)).to_contain_text("return for order 3302 is registered")
    for button in buttons.all():
        expect(button).to_be_disabled()
    expect(buttons.first).to_have_attribute("aria-pressed", "true")
    expect(buttons.last).to_have_attribute("aria-pressed", "false")
    before = texts(page)
    assert before[-2] == "customer: Yes, please" and "registered" in before[-1]

    page.reload()  # the widget resumes the conversation: the buttons come back from the history, used
    expect(answered(page, 6)).to_contain_text("return for order 3302 is registered")
    resumed = bot_messages(page).filter(has_text="Shall I register the return").get_by_test_id("helpline-button")
    expect(resumed).to_have_text(["Yes, please", "No"])
    expect(resumed.first).to_be_disabled()
    expect(resumed.first).to_have_attribute("aria-pressed", "true")
    assert texts(page) == before
    assert "/affirm" not in customer_messages(page).all_inner_texts()


# Recorded in the page: every helpline:custom event; one kind of payload is shown by the "host page".
LISTEN = """() => {
  window.__custom = [];
  window.addEventListener('helpline:custom', (event) => {
    const {reply_id, custom, text, resumed, container} = event.detail;
    window.__custom.push({reply_id, custom, text, resumed, inWidget: container instanceof HTMLElement});
    if (custom && custom.kind === 'card') {
      event.preventDefault();
      const card = document.createElement('strong');
      card.className = 'host-card';
      card.textContent = custom.title;
      container.append(card);
    }
  });
}"""


def mock_socket(page: Page, replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answer the widget's socket here: a session, then ``replies`` (reply.start/end pairs) to its message."""
    heard: list[dict[str, Any]] = []

    def serve(ws: WebSocketRoute) -> None:
        def on_message(data: str | bytes) -> None:
            frame = json.loads(data)
            heard.append(frame)
            if frame["type"] != "message":
                return
            for number, end in enumerate(replies, 1):
                reply_id = f"r{number}"
                ws.send(json.dumps({"type": "reply.start", "reply_id": reply_id, "in_reply_to": frame["id"],
                                    "intent": "show", "confidence": 1.0, "route": "action", "action": "act"}))
                ws.send(json.dumps({"type": "reply.end", "reply_id": reply_id, "faq_id": None, "score": None,
                                    "suggestions": [], **end}))

        ws.on_message(on_message)
        ws.send(json.dumps({"type": "session", "conversation_id": "c-mock", "token": "t-mock", "resumed": False,
                            "welcome": "Hi", "max_message_chars": 2000, "state": "bot", "agent": None}))

    page.route_web_socket(re.compile(r"/ws(\?|$)"), serve)
    return heard


def test_images_and_custom_payloads(page: Page, rasa_server: LiveServer) -> None:
    page.route("https://images.example/**", lambda route: route.fulfill(body=PIXEL, content_type="image/png"))
    mock_socket(page, [
        {"text": "Here are the boots <b>", "image": "https://images.example/boots.png"},
        {"text": "", "image": "https://images.example/only.png"},
        {"text": "Not shown", "image": "javascript:alert(1)"},
        {"text": "A card", "custom": {"kind": "card", "title": "<i>Order 3302</i>"}},
        {"text": "Plain text stays", "custom": {"kind": "unknown"}},
    ])
    page.add_init_script(f"({LISTEN})()")
    open_demo(page, rasa_server)
    ask(page, "show me")

    last = answered(page, 5)
    expect(last).to_contain_text("Plain text stays")
    replies = page.locator('[data-testid="helpline-message"][data-role="bot"][data-reply-id]')
    images = page.get_by_test_id("helpline-image")
    expect(images).to_have_count(2)  # not the javascript: one
    expect(images.first).to_have_attribute("alt", "Here are the boots <b>")
    expect(images.last).to_have_attribute("alt", "image")
    expect(replies.first.get_by_test_id("helpline-message-text")).to_have_text("Here are the boots <b>")
    page.wait_for_function("img => img.complete && img.naturalWidth === 1", arg=images.first.element_handle())
    expect(replies.nth(2).get_by_test_id("helpline-message-text")).to_have_text("Not shown")

    card = replies.nth(3)
    expect(card).to_have_attribute("data-custom", "shown")
    expect(card.locator(".host-card")).to_have_text("<i>Order 3302</i>")
    expect(last.get_by_test_id("helpline-custom")).to_have_count(0)  # nobody showed it: the text alone
    seen = page.evaluate("window.__custom")
    assert [(e["reply_id"], e["custom"]["kind"], e["resumed"], e["inWidget"]) for e in seen] == [
        ("r4", "card", False, True), ("r5", "unknown", False, True)]
    markup = page.locator('[data-testid="helpline-message"] b, [data-testid="helpline-message"] i')
    assert markup.count() == 0  # no markup from the payloads became elements


def test_replies_to_an_earlier_message_stay_with_it(page: Page, rasa_server: LiveServer) -> None:
    """Two replies to the first message arrive after the second was sent: both go under the first, in order."""
    def serve(ws: WebSocketRoute) -> None:
        waiting: list[str] = []

        def reply(reply_id: str, to: str, text: str) -> None:
            ws.send(json.dumps({"type": "reply.start", "reply_id": reply_id, "in_reply_to": to, "route": "action"}))
            ws.send(json.dumps({"type": "reply.delta", "reply_id": reply_id, "text": text}))
            ws.send(json.dumps({"type": "reply.end", "reply_id": reply_id, "text": text, "suggestions": []}))

        def on_message(data: str | bytes) -> None:
            frame = json.loads(data)
            if frame["type"] != "message":
                return
            waiting.append(frame["id"])
            if len(waiting) == 2:
                first, second = waiting
                reply("a1", first, "first, one")
                reply("a2", first, "first, two")
                reply("b1", second, "second")

        ws.on_message(on_message)
        ws.send(json.dumps({"type": "session", "conversation_id": "c-mock", "token": "t-mock", "resumed": False,
                            "welcome": "Hi", "state": "bot", "agent": None}))

    page.route_web_socket(re.compile(r"/ws(\?|$)"), serve)
    open_demo(page, rasa_server)
    ask(page, "one")
    ask(page, "two")
    answered(page, 3)
    assert texts(page) == ["bot: Hi", "customer: one", "bot: first, one", "bot: first, two", "customer: two",
                           "bot: second"]
    expect(page.get_by_test_id("helpline-typing")).to_be_hidden()
