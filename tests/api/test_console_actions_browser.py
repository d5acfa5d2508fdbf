"""The agent console shows turns answered by Rasa custom actions: headless Chromium against a real server whose
company has a Rasa side, and the real rasa-sdk action server (the demo's actions and the tests' misbehaving ones).

Customers talk over the real customer socket; messages that must reach a given rule are sent as button
payloads (``/intent{...}``), as the widget sends a pressed button."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.api.conftest import PageLog
from tests.api.rasa_company import rasa_company
from tests.api.wsclient import Customer
from tests.servers import ActionServerProcess, LiveServer, add_agents, start_server, stop_server

pytestmark = pytest.mark.browser

PASSWORD = "console actions test password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path,
           action_server: ActionServerProcess) -> Iterator[LiveServer]:
    """A server for the Rasa company of tests.api.rasa_company, with agent Maya."""
    root = tmp_path_factory.mktemp("console-actions")
    data_dir = rasa_company(root, demo_data_dir)
    live = start_server(data_dir, f"sqlite:///{root / 'helpline.db'}", root / "server.log",
                        HELPLINE_ACTION_ENDPOINT_URL=action_server.url, HELPLINE_STREAM_DELAY_MS="0")
    add_agents(live.database_url, PASSWORD, "maya")
    yield live
    stop_server(live)


# ---------------------------------------------------------------- helpers


def open_in_console(page: Page, server: LiveServer, conversation: str) -> None:
    """Log Maya in over the API (the cookie lands in the page's context) and open the conversation."""
    response = page.request.post(f"{server.url}/api/auth/login", data={"name": "maya", "password": PASSWORD})
    assert response.ok, response.text()
    page.goto(f"{server.url}/agent#c={conversation}")
    expect(page.get_by_test_id("console")).to_be_visible()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")  # live turns reach it
    expect(page.get_by_test_id("conversation-title")).to_be_visible()


def api_transcript(page: Page, server: LiveServer, conversation: str) -> dict[str, Any]:
    response = page.request.get(f"{server.url}/api/agent/conversations/{conversation}")
    assert response.ok, response.text()
    detail: dict[str, Any] = response.json()
    return detail


def bot_message(page: Page, message_id: int) -> Locator:
    return page.get_by_test_id("transcript").locator(f'[data-role="bot"][data-id="{message_id}"]')


def action_turns(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """The bot messages that carry a turn's actions, in order."""
    return [m for m in detail["messages"] if m["role"] == "bot" and m.get("actions")]


def expand(actions: Locator) -> None:
    actions.get_by_test_id("actions-summary").click()
    expect(actions).to_have_attribute("open", "")


# ---------------------------------------------------------------- tests


def test_an_agent_sees_what_the_actions_did_and_which_one_failed(
    page: Page, server: LiveServer, page_log: PageLog
) -> None:
    with Customer.open(server.ws_url) as customer:
        told = customer.ask('/order_status{"order_id": "4471"}')
        crashed = customer.ask("/test_crash")
        conversation: str = customer.session["conversation_id"]
    assert told.start["action"] == "action_order_status", told.start
    assert "ask for a person" in crashed.text
    open_in_console(page, server, conversation)
    detail = api_transcript(page, server, conversation)
    order, crash = action_turns(detail)

    # the header counts the turns answered by actions, and the failed ones
    expect(page.get_by_test_id("action-count")).to_have_text("2 action calls, 1 failed")

    # the reply says which action said it
    answer = next(m for m in detail["messages"] if m["role"] == "bot" and m["action"] == "action_order_status")
    expect(bot_message(page, answer["id"]).get_by_test_id("action-badge")).to_have_text("action_order_status")
    expect(bot_message(page, answer["id"]).get_by_test_id("explain-route")).to_have_text("Custom action")

    # the order turn's actions: what ran, how long, the one slot it changed, its events
    actions = bot_message(page, order["id"]).get_by_test_id("actions-detail")
    expect(actions).to_have_attribute("data-outcome", "ok")
    expect(actions.get_by_test_id("actions-ran-item").first).to_be_hidden()  # folded until the agent opens it
    expand(actions)
    expect(actions.get_by_test_id("actions-ran-item")).to_have_text(order["actions"]["actions"])
    duration = actions.get_by_test_id("actions-duration")
    expect(duration).to_have_text(re.compile(r"^\d+ ms$"))
    assert abs(int(duration.inner_text().split()[0]) - order["actions"]["seconds"] * 1000) <= 1
    changed = actions.locator('[data-testid="slot-change"]:visible')
    order_id = changed.filter(has=page.locator('th:text-is("order_id")'))
    expect(order_id.locator("th, td")).to_have_text(["order_id", "not set", "→", "4471"])  # null: "not set"
    before, after = order["actions"]["slots_before"], order["actions"]["slots_after"]
    expect(changed).to_have_count(sum(before.get(name) != after.get(name) for name in {*before, *after}))
    actions.get_by_test_id("slots-all-toggle").click()
    expect(changed).to_have_count(len({*before, *after}))  # unchanged slots too
    slot_events = actions.get_by_test_id("actions-event").filter(has_text="order_id = 4471")
    expect(slot_events.first).to_have_attribute("data-event", "slot")
    expect(slot_events.first.locator("code")).to_have_text("slot")
    expect(actions.get_by_test_id("actions-event")).to_have_count(len(order["actions"]["events"]))
    expect(actions.get_by_test_id("actions-failure")).to_have_count(0)

    # the crashed turn: the failure, highlighted, and the action it stopped at
    failed = bot_message(page, crash["id"]).get_by_test_id("actions-detail")
    expect(failed).to_have_attribute("data-outcome", "failed")
    expect(failed.get_by_test_id("actions-summary")).to_contain_text("Failed")
    expand(failed)
    stopped = failed.locator('[data-testid="actions-ran-item"][data-failed="true"]')
    expect(stopped).to_have_text("action_crash")
    failure = failed.get_by_test_id("actions-failure")
    expect(failure).to_contain_text(crash["actions"]["failed"]["kind"])
    expect(failure).to_contain_text(crash["actions"]["failed"]["reason"])
    expect(failure).to_contain_text("action_crash")
    expect(failed.get_by_test_id("slot-changes-none")).to_be_visible()  # a crash changes no slot

    # the slots beside the transcript: only the set ones, and no form
    panel = page.get_by_test_id("slots-panel")
    expect(panel).to_be_visible()
    set_slots = {name: value for name, value in detail["slots"].items() if value is not None}
    assert set_slots.get("order_id") == "4471", detail["slots"]
    expect(panel.get_by_test_id("slot-name")).to_have_text(sorted(set_slots))
    expect(panel.locator('[data-testid="slot"][data-slot="order_id"]')).to_have_text("4471")
    expect(panel.get_by_test_id("active-form")).to_have_text(detail["active_form"] or "None")
    assert page_log.console_errors == []


def test_buttons_show_as_chips_and_the_slots_panel_follows_the_form(page: Page, server: LiveServer) -> None:
    with Customer.open(server.ws_url) as customer:
        customer.ask("/return_item")
        customer.ask("order 3302")
        confirm = customer.ask("the boots are too small")
        conversation: str = customer.session["conversation_id"]
    buttons = confirm.end["buttons"]
    assert buttons, confirm.end
    open_in_console(page, server, conversation)
    detail = api_transcript(page, server, conversation)
    asked = next(m for m in reversed(detail["messages"]) if m["role"] == "bot" and m["buttons"])

    chips = bot_message(page, asked["id"]).get_by_test_id("message-button")
    expect(chips).to_have_text([f"{b['title']}→{b['payload']}" for b in buttons])
    assert chips.first.evaluate("chip => chip.closest('button, a') === null")  # shown, not pressable
    panel = page.get_by_test_id("slots-panel")
    expect(panel.get_by_test_id("active-form")).to_have_text(detail["active_form"] or "None")
    expect(panel.locator('[data-testid="slot"][data-slot="order_id"]')).to_have_text("3302")

    # the customer confirms while the agent looks: the turn arrives live, the count and the panel follow
    with Customer.open(server.ws_url, conversation, customer.session["token"]) as back:
        done = back.ask("/affirm")
    assert done.start["action"] == "action_submit_return", done.start
    now = api_transcript(page, server, conversation)
    expect(page.get_by_test_id("action-count")).to_have_text(f"{len(action_turns(now))} action calls, 0 failed")
    expect(panel.get_by_test_id("active-form")).to_have_text(now["active_form"] or "None")
    page.reload()  # and the transcript loaded again agrees
    expect(page.get_by_test_id("action-count")).to_have_text(f"{len(action_turns(now))} action calls, 0 failed")
    expect(panel.get_by_test_id("active-form")).to_have_text(now["active_form"] or "None")
    expect(panel.locator('[data-testid="slot"][data-slot="order_id"]')).to_have_text("3302")
