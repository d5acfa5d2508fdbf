"""Headless Chromium for the page tests: Debian's chromium driven by Playwright, never a downloaded browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, sync_playwright

from tests.api.rasa_channels import start_channels_server
from tests.servers import ActionServerProcess, LiveServer, stop_server

CHROMIUM = Path(os.environ.get("HELPLINE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Generous for a busy 2-core machine, short enough that a broken page fails fast.
ACTION_TIMEOUT_MS = 15_000


@dataclass
class PageLog:
    """What a page did that a test may want to check: uncaught errors, dialogs, console errors, requests."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope: Playwright's sync API runs an asyncio loop in the main thread while it is started, and
    # a loop left running for the rest of the session would break later tests that call asyncio.run().
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's package (`make system-deps`, i.e. "
            "`apt-get install -y chromium`) or point HELPLINE_CHROMIUM at a Chromium binary",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Browser, page_log: PageLog) -> Iterator[Page]:
    """A page in a fresh browser context (own storage); fails the test if the page threw an uncaught error."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    page.on("pageerror", lambda error: page_log.errors.append(str(error)))
    page.on("console", lambda message: _log_console(page_log, message))
    page.on("dialog", lambda dialog: _dismiss(page_log, dialog))
    page.on("request", lambda request: page_log.requests.append(request.url))
    yield page
    context.close()
    assert not page_log.errors, f"uncaught errors in the page: {page_log.errors}"


def _log_console(log: PageLog, message: ConsoleMessage) -> None:
    if message.type == "error":
        log.console_errors.append(message.text)


def _dismiss(log: PageLog, dialog: Dialog) -> None:
    log.dialogs.append(f"{dialog.type}: {dialog.message}")
    dialog.dismiss()


@pytest.fixture
def customer(browser: Browser) -> Iterator[Page]:
    """A customer's page beside an agent's, in a browser context of its own (own storage, own socket)."""
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"uncaught errors in the widget: {errors}"


@pytest.fixture(scope="session")
def channels_server(tmp_path_factory: pytest.TempPathFactory, demo_data_dir: Path,
                    action_server: ActionServerProcess) -> Iterator[LiveServer]:
    """One server for the tests of Rasa's channels: the demo company with its Rasa side, agent Maya, and limits
    low enough to reach quickly (6 messages at once, then 6 a minute; 4 sockets open per address)."""
    live = start_channels_server(tmp_path_factory.mktemp("channels"), demo_data_dir, action_server,
                                 HELPLINE_MESSAGES_PER_MINUTE="6", HELPLINE_FRAME_BURST="6",
                                 HELPLINE_CONNECTIONS_PER_ADDRESS="4")
    yield live
    stop_server(live)
