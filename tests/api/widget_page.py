"""Driving the customer widget in a Playwright page: the steps the browser tests share."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.servers import LiveServer

REFUND_QUESTION = "How long does a refund take?"
REFUND_TIMING = re.compile(r"5-7 business days")
ANSWER_TIMEOUT_MS = 30_000


@contextmanager
def site_on_another_origin(page: bytes, files: dict[str, tuple[bytes, str]] | None = None) -> Iterator[str]:
    """A company's site on an origin of its own (a port of this machine): ``page`` at every path but those of
    ``files`` (path: body and content type). Yields its URL."""
    served = files or {}

    class Site(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server calls
            body, kind = served.get(self.path, (page, "text/html"))
            self.send_response(200)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:  # keep the test output quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


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
