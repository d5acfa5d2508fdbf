"""The chat widget in headless Chromium against a real server: what a customer sees and does."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.api.conftest import PageLog
from tests.api.widget_page import (
    REFUND_QUESTION,
    REFUND_TIMING,
    answered,
    ask,
    bot_messages,
    customer_messages,
    open_demo,
    site_on_another_origin,
    stored_session,
)
from tests.servers import LiveServer

pytestmark = pytest.mark.browser

WIDGET_JS = Path(__file__).resolve().parents[2] / "api" / "static" / "widget.js"
# Records, from inside the page, what flashes by too fast to poll for: the typing dots being shown,
# every length a streaming bot bubble passed through, connection states and customer-message states.
RECORDER = """() => {
  const root = document.querySelector('[data-testid="helpline-root"]').shadowRoot;
  const seen = window.__helpline = {typingShown: false, botLengths: [], statuses: [], customerStates: []};
  const look = () => {
    const typing = root.querySelector('[data-testid="helpline-typing"]');
    if (typing && !typing.hidden) seen.typingShown = true;
    const bots = root.querySelectorAll('[data-testid="helpline-message"][data-role="bot"]');
    const last = bots[bots.length - 1];
    if (last && !last.hidden && last.dataset.replyId) {
      const entry = last.dataset.replyId + ':' + last.textContent.length;
      if (seen.botLengths[seen.botLengths.length - 1] !== entry) seen.botLengths.push(entry);
    }
    const status = root.querySelector('[data-testid="helpline-status"]').dataset.state;
    if (seen.statuses[seen.statuses.length - 1] !== status) seen.statuses.push(status);
    for (const m of root.querySelectorAll('[data-role="customer"]')) {
      if (!seen.customerStates.includes(m.dataset.state)) seen.customerStates.push(m.dataset.state);
    }
  };
  new MutationObserver(look).observe(root, {subtree: true, childList: true, attributes: true, characterData: true});
  look();
}"""


def test_a_question_is_answered_as_a_stream(page: Page, live_server: LiveServer) -> None:
    open_demo(page, live_server)
    expect(page.get_by_test_id("helpline-input")).to_be_focused()
    expect(bot_messages(page).first).to_contain_text("Northwind Outfitters assistant")  # the welcome
    page.evaluate(RECORDER)

    ask(page, REFUND_QUESTION)

    expect(customer_messages(page).last).to_have_text(REFUND_QUESTION)
    reply = answered(page, 1)
    expect(reply).to_contain_text(REFUND_TIMING)
    expect(page.get_by_test_id("helpline-typing")).to_be_hidden()
    seen = page.evaluate("window.__helpline")
    assert seen["typingShown"], "no typing indicator between sending and the first words"
    lengths = [int(entry.split(":")[1]) for entry in seen["botLengths"]]
    assert len(lengths) > 2 and lengths == sorted(lengths), f"the reply did not grow chunk by chunk: {lengths}"
    assert int(reply.get_attribute("data-chunks") or 0) > 1


def test_a_reload_shows_the_conversation_again(page: Page, live_server: LiveServer) -> None:
    open_demo(page, live_server)
    ask(page, REFUND_QUESTION)
    answer = answered(page, 1).inner_text()
    conversation = stored_session(page, live_server)["conversation_id"]

    page.reload()
    panel = page.get_by_test_id("helpline-panel")
    expect(panel).to_be_visible()  # it was open before the reload, so it stays open
    expect(customer_messages(page)).to_have_text([REFUND_QUESTION])
    expect(answered(page, 1)).to_have_text(answer)
    assert stored_session(page, live_server)["conversation_id"] == conversation


def test_markup_in_a_message_shows_literally(page: Page, live_server: LiveServer, page_log: PageLog) -> None:
    attack = "<img src=x onerror=alert(1)><b>bold</b>"
    open_demo(page, live_server)
    ask(page, attack)
    answered(page, 1)
    expect(customer_messages(page).last).to_have_text(attack)
    assert page.locator('[data-testid="helpline-root"] img, [data-testid="helpline-root"] b').count() == 0

    page.reload()
    expect(customer_messages(page).last).to_have_text(attack)  # and from the stored history
    assert page.locator('[data-testid="helpline-root"] img').count() == 0
    assert page_log.dialogs == []


def test_the_widget_never_parses_text_as_html() -> None:
    source = WIDGET_JS.read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in source, f"widget.js uses {sink}"


def test_clicking_a_suggestion_asks_it(page: Page, live_server: LiveServer) -> None:
    open_demo(page, live_server)
    ask(page, "tell me a joke")
    fallback = answered(page, 1)
    expect(fallback).to_have_attribute("data-route", "fallback")
    suggestion = fallback.get_by_test_id("helpline-suggestion").first
    question = suggestion.inner_text()
    assert question

    suggestion.click()

    expect(customer_messages(page).last).to_have_text(question)
    answered(page, 2)


def test_thumbs_down_is_recorded_and_remembered(page: Page, live_server: LiveServer) -> None:
    open_demo(page, live_server)
    ask(page, REFUND_QUESTION)
    reply = answered(page, 1)
    down, up = reply.get_by_test_id("helpline-thumb-down"), reply.get_by_test_id("helpline-thumb-up")

    down.click()

    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(reply).to_have_attribute("data-feedback", "saved")  # the server acknowledged it
    page.reload()
    again = answered(page, 1)
    expect(again.get_by_test_id("helpline-thumb-down")).to_have_attribute("aria-pressed", "true")
    expect(again.get_by_test_id("helpline-thumb-up")).to_have_attribute("aria-pressed", "false")


def test_a_message_sent_while_disconnected_is_answered_after_reconnecting(page: Page, live_server: LiveServer) -> None:
    sockets: list[WebSocketRoute] = []

    def through(route: WebSocketRoute) -> None:  # every socket passes to the server, and can be cut
        route.connect_to_server()
        sockets.append(route)

    page.route_web_socket(re.compile(r"/ws$"), through)
    open_demo(page, live_server)
    ask(page, REFUND_QUESTION)
    answered(page, 1)
    conversation = stored_session(page, live_server)["conversation_id"]
    page.evaluate(RECORDER)

    sockets[-1].close(code=4000, reason="the network dropped")  # as a network failure drops it
    ask(page, "Do you ship to Norway?")

    reply = answered(page, 2)
    expect(reply).to_contain_text("Norway")
    seen = page.evaluate("window.__helpline")
    assert "reconnecting" in seen["statuses"], seen["statuses"]
    assert "queued" in seen["customerStates"], "the message did not wait for the connection"
    expect(customer_messages(page)).to_have_text([REFUND_QUESTION, "Do you ship to Norway?"])
    assert stored_session(page, live_server)["conversation_id"] == conversation
    expect(page.get_by_test_id("helpline-status")).to_be_hidden()


def test_a_rejected_session_starts_a_fresh_conversation(page: Page, live_server: LiveServer) -> None:
    key = f"helpline:session:{live_server.url}"
    stale = {"conversation_id": "not-a-conversation", "token": "not-a-token"}
    page.add_init_script(f"localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(stale))})")

    open_demo(page, live_server)

    assert stored_session(page, live_server)["conversation_id"] != stale["conversation_id"]
    expect(bot_messages(page).first).to_contain_text("Northwind Outfitters assistant")
    ask(page, REFUND_QUESTION)
    expect(answered(page, 1)).to_contain_text(REFUND_TIMING)


def test_a_too_long_message_shows_an_error(page: Page, live_server: LiveServer) -> None:
    open_demo(page, live_server)
    ask(page, "a" * 2001)
    expect(page.get_by_test_id("helpline-error")).to_have_text(re.compile("Message too long"))
    expect(customer_messages(page).last).to_have_attribute("data-state", "failed")
    expect(page.get_by_test_id("helpline-input")).to_have_value("a" * 2001)  # back to be shortened
    ask(page, REFUND_QUESTION)  # the conversation carries on
    expect(answered(page, 1)).to_contain_text(REFUND_TIMING)


def test_the_demo_page_embeds_the_widget_like_a_customer_site(
    page: Page, live_server: LiveServer, page_log: PageLog
) -> None:
    page.goto(f"{live_server.url}/")
    expect(page).to_have_title(re.compile("Northwind Outfitters"))
    for question in ("How long does a refund take?", "Do you ship to Norway?", "I want to talk to a person"):
        expect(page.get_by_text(question, exact=True)).to_be_visible()
    assert page.locator("script[src]").evaluate_all("s => s.map(e => e.getAttribute('src'))") == ["/static/widget.js"]
    expect(page.get_by_test_id("helpline-panel")).to_be_hidden()  # closed until the customer opens it

    page.get_by_role("listitem").filter(has_text="I want to talk to a person").get_by_role("button").click()

    reply = answered(page, 1)
    expect(reply).to_have_attribute("data-route", "handoff")
    expect(reply).to_contain_text("person")
    outside = [url for url in page_log.requests if not url.startswith(live_server.url)]
    assert outside == [], f"requests beyond the Helpline server: {outside}"


@pytest.fixture
def other_site(live_server: LiveServer) -> Iterator[str]:
    """Another company's page on its own origin, with hostile CSS, embedding the widget by its one tag."""
    body = f"""<!doctype html><html><head><title>Fjord Bikes</title><style>
      * {{ color: red !important; font-size: 40px !important; }}
      button {{ display: none !important; }}
      div {{ border: 9px solid lime !important; }}
      </style></head><body><h1>Fjord Bikes</h1>
      <script src="{live_server.url}/static/widget.js" data-title="Fjord Bikes" data-open="true" defer></script>
      </body></html>""".encode()

    with site_on_another_origin(body) as url:
        yield url


def test_the_widget_works_on_another_site_despite_its_css(page: Page, live_server: LiveServer, other_site: str) -> None:
    page.goto(other_site)

    panel = page.get_by_test_id("helpline-panel")
    expect(panel).to_be_visible()  # data-open="true"
    expect(panel.get_by_role("heading")).to_have_text("Fjord Bikes")
    launcher = page.get_by_test_id("helpline-launcher")
    expect(launcher).to_be_visible()
    assert launcher.evaluate("b => getComputedStyle(b).fontSize") != "40px"
    ask(page, REFUND_QUESTION)  # the server address came from the script's own src
    expect(answered(page, 1)).to_contain_text(REFUND_TIMING)


def test_the_panel_fills_a_phone_screen(page: Page, live_server: LiveServer) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    panel = open_demo(page, live_server)
    page.wait_for_timeout(300)  # let the opening animation settle
    box = panel.bounding_box()
    assert box is not None
    assert (box["x"], box["y"], box["width"], box["height"]) == pytest.approx((0, 0, 375, 740), abs=1)
    page.get_by_test_id("helpline-close").click()
    expect(panel).to_be_hidden()
    expect(page.get_by_role("button", name="Open chat")).to_be_focused()
