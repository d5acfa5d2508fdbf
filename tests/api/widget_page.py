"""Driving the customer widget in a Playwright page: the steps the browser tests share."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.servers import LiveServer

REFUND_QUESTION = "How long does a refund take?"
REFUND_TIMING = re.compile(r"5-7 business days")
ANSWER_TIMEOUT_MS = 30_000


def open_demo(page: Page, server: LiveServer) -> Locator:
    """Load the demo page, open the chat if it is closed, and return the panel once connected."""
    page.goto(f"{server.url}/")
    panel = page.get_by_test_id("helpline-panel")
    if not panel.is_visible():
        page.get_by_role("button", name="Open chat").click()
    expect(panel).to_be_visible()
    expect(page.get_by_test_id("helpline-status")).to_have_attribute("data-state", "open")
    return panel


def ask(page: Page, text: str) -> None:
    box = page.get_by_test_id("helpline-input")
    box.fill(text)
    box.press("Enter")


def bot_messages(page: Page) -> Locator:
    return page.locator('[data-testid="helpline-message"][data-role="bot"]')


def customer_messages(page: Page) -> Locator:
    return page.locator('[data-testid="helpline-message"][data-role="customer"]')


def answered(page: Page, count: int) -> Locator:
    """Wait until ``count`` bot replies (the welcome not counted) have finished; return the last."""
    replies = page.locator('[data-testid="helpline-message"][data-role="bot"][data-state="done"][data-reply-id]')
    expect(replies).to_have_count(count, timeout=ANSWER_TIMEOUT_MS)
    return replies.nth(count - 1)


def stored_session(page: Page, server: LiveServer) -> dict[str, Any]:
    raw = page.evaluate("key => localStorage.getItem(key)", f"helpline:session:{server.url}")
    assert raw, "the widget stored no session"
    session: dict[str, Any] = json.loads(raw)
    return session
