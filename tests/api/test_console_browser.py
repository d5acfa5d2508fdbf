"""The agent console in headless Chromium against a real server: what a support agent sees and does,
with a real customer widget in a second browser context."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from bot.store.db import make_engine
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts
from tests.api.conftest import PageLog
from tests.api.test_gaps_api import add_admin
from tests.api.widget_page import REFUND_QUESTION, REFUND_TIMING, answered, ask, open_demo, stored_session
from tests.api.wsclient import Customer
from tests.servers import LiveServer, add_agents, start_server, stop_server

pytestmark = pytest.mark.browser

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "api" / "static" / "console"
PASSWORD = "console test password"
ATTACK = "<img src=x onerror=alert(1)>"
ASK_FOR_A_PERSON = "I want to talk to a person"


@pytest.fixture(scope="module")
def server(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of this module's own, on a fresh SQLite database, with agents Maya and Ravi."""
    workdir = tmp_path_factory.mktemp("console")
    live = start_server(demo_data_dir, f"sqlite:///{workdir / 'helpline.db'}", workdir / "server.log")
    add_agents(live.database_url, PASSWORD, "maya", "ravi")
    yield live
    stop_server(live)


# ---------------------------------------------------------------- helpers


def sign_in(page: Page, server: LiveServer, name: str = "maya", where: str = "/agent") -> None:
    """Log in over the API (the cookie lands in the page's context) and open a console page."""
    response = page.request.post(f"{server.url}/api/auth/login", data={"name": name, "password": PASSWORD})
    assert response.ok, response.text()
    page.goto(f"{server.url}{where}")
    expect(page.get_by_test_id("console")).to_be_visible()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")


def conversation_item(page: Page, conversation: str) -> Locator:
    return page.locator(f'[data-testid="conversation-item"][data-id="{conversation}"]')


def messages(page: Page, role: str) -> Locator:
    return page.get_by_test_id("transcript").locator(f'[data-testid="message"][data-role="{role}"]')


def texts(page: Page, role: str) -> Locator:
    return messages(page, role).get_by_test_id("message-text")


def start_conversation(server: LiveServer, *questions: str) -> str:
    """A customer asks over the real customer socket; returns the conversation id."""
    with Customer.open(server.ws_url) as customer:
        for question in questions:
            customer.ask(question)
        conversation: str = customer.session["conversation_id"]
    return conversation


def api_transcript(page: Page, server: LiveServer, conversation: str) -> dict[str, Any]:
    response = page.request.get(f"{server.url}/api/agent/conversations/{conversation}")
    assert response.ok, response.text()
    detail: dict[str, Any] = response.json()
    return detail


def percent(value: float) -> str:
    """The console's rendering of a probability (dom.js ``percent``)."""
    p = value * 100
    if p >= 10 or p == 0:
        return f"{round(p)}%"
    return f"{p:.1f}%" if p >= 0.1 else "<0.1%"


# ---------------------------------------------------------------- tests


def test_an_agent_signs_in_and_out(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/agent#view=waiting")
    expect(page).to_have_url(re.compile(r"/agent/login\?next=(/|%2F)agent#view=waiting$"))  # the hash survives

    page.get_by_test_id("login-name").fill("maya")
    page.get_by_test_id("login-password").fill("not the password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text("Wrong name or password.")

    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-password").press("Enter")

    expect(page).to_have_url(f"{server.url}/agent#view=waiting")
    expect(page.get_by_test_id("agent-name")).to_have_text("Maya")
    expect(page.get_by_test_id("inbox-title")).to_have_text("Waiting")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    policy = page.request.get(f"{server.url}/agent").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    page.goto(f"{server.url}/agent/login")
    expect(page).to_have_url(f"{server.url}/agent")  # already signed in: straight to the console

    page.get_by_test_id("logout").click()

    expect(page).to_have_url(re.compile(r"/agent/login$"))
    page.goto(f"{server.url}/agent")
    expect(page).to_have_url(re.compile(r"/agent/login\?next="))  # the session is gone server-side too


def test_a_console_whose_agent_an_admin_disables_goes_to_the_login_page_at_once(
    page: Page, server: LiveServer
) -> None:
    add_admin(server.database_url, "lee", PASSWORD)
    admin = httpx.post(f"{server.url}/api/auth/login", json={"name": "lee", "password": PASSWORD}, timeout=30)
    bearer = {"Authorization": f"Bearer {admin.json()['token']}"}
    sign_in(page, server, name="ravi", where="/agent#view=waiting")
    try:
        disabled = httpx.post(f"{server.url}/api/admin/agents/ravi/disable", headers=bearer, timeout=30)
        assert disabled.status_code == 200, disabled.text

        # the socket closes with 4401 at once (not at its next check, 30 s away) and the console signs out
        expect(page).to_have_url(re.compile(r"/agent/login\?next=%2Fagent%23view%3Dwaiting$"), timeout=10_000)
        page.get_by_test_id("login-name").fill("ravi")
        page.get_by_test_id("login-password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("login-error")).to_have_text("Wrong name or password.")
    finally:
        httpx.post(f"{server.url}/api/admin/agents/ravi/enable", headers=bearer, timeout=30)


def test_an_agent_takes_a_live_conversation_from_the_bot_and_hands_it_back(
    page: Page, customer: Page, server: LiveServer, page_log: PageLog
) -> None:
    sign_in(page, server)
    open_demo(customer, server)
    ask(customer, REFUND_QUESTION)
    answered(customer, 1)
    conversation = stored_session(customer, server)["conversation_id"]

    # the new conversation arrives in the inbox without a reload
    item = conversation_item(page, conversation)
    expect(item).to_be_visible()
    expect(item.get_by_test_id("conversation-preview")).to_contain_text(REFUND_TIMING)
    item.click()

    # the bot turn, explained as the API stored it
    expect(texts(page, "customer")).to_have_text([REFUND_QUESTION])
    turn = api_transcript(page, server, conversation)["messages"][-1]
    assert turn["role"] == "bot" and turn["route"] == "faq", turn
    why = messages(page, "bot").last.get_by_test_id("explanation")
    expect(why.get_by_test_id("explain-intent")).to_contain_text(turn["intent"])
    expect(why.get_by_test_id("explain-confidence")).to_have_text(percent(turn["confidence"]))
    runners_up = " · ".join(f"{label} {percent(p)}" for label, p in turn["ranking"][1:3])
    expect(why.get_by_test_id("explain-next")).to_have_text(runners_up)
    expect(why.get_by_test_id("explain-route")).to_have_text("FAQ answer")
    expect(why.get_by_test_id("explain-faq")).to_contain_text(turn["faq_question"])
    expect(why.get_by_test_id("explain-score")).to_have_text(f"score {turn['score']:.2f}")
    served = httpx.get(f"{server.url}/health", timeout=10).json()["model_version"]
    expect(why.get_by_test_id("explain-model")).to_have_text(served)
    expect(why.get_by_test_id("explain-latency")).to_have_text(re.compile(r"^\d+ ms$"))

    # the customer asks for a person: badge, notice, and the agent accepts
    ask(customer, ASK_FOR_A_PERSON)
    expect(page.get_by_test_id("waiting-count")).to_have_text("1")
    expect(page.get_by_test_id("toast").filter(has_text="asked for a person")).to_be_visible()
    expect(page.get_by_test_id("conversation-state")).to_have_attribute("data-state", "waiting")
    expect(page.get_by_test_id("console")).to_have_attribute("data-chimes", "1")  # the WebAudio chime played
    page.get_by_test_id("accept").click()

    expect(page.get_by_test_id("conversation-state")).to_have_text("With you")
    expect(page.get_by_test_id("waiting-count")).to_be_hidden()
    expect(customer.get_by_test_id("helpline-system").last).to_have_text("Maya joined")
    expect(messages(page, "system").last).to_contain_text("Maya joined")

    # the agent types and writes; the customer sees both
    reply = page.get_by_test_id("composer-input")
    reply.press_sequentially("Hi, I'm Maya. How can I help", delay=15)
    expect(customer.get_by_test_id("helpline-agent-typing")).to_be_visible()
    reply.press("Enter")
    said = customer.locator('[data-testid="helpline-message"][data-role="agent"]').last
    expect(said).to_contain_text("Hi, I'm Maya. How can I help")
    expect(customer.get_by_test_id("helpline-agent-typing")).to_be_hidden()
    expect(texts(page, "agent")).to_have_text(["Hi, I'm Maya. How can I help"])

    # the customer types and answers; the agent sees both, markup as plain text
    box = customer.get_by_test_id("helpline-input")
    box.press_sequentially("<img src=x", delay=15)
    expect(page.get_by_test_id("customer-typing")).to_be_visible()
    box.fill(ATTACK)
    box.press("Enter")
    expect(texts(page, "customer").last).to_have_text(ATTACK)
    expect(page.get_by_test_id("customer-typing")).to_be_hidden()
    assert page.locator("img").count() == 0
    assert page_log.dialogs == []

    # back to the bot, which answers the customer again
    page.get_by_test_id("handback").click()
    expect(page.get_by_test_id("conversation-state")).to_have_attribute("data-state", "bot")
    expect(customer.get_by_test_id("helpline-system").last).to_have_text("You're back with the bot")
    ask(customer, "Do you ship to Norway?")
    expect(answered(customer, 3)).to_contain_text("Norway")  # the refund answer, the handoff notice, this
    expect(texts(page, "bot").last).to_contain_text("Norway")
    expect(messages(page, "bot").last.get_by_test_id("explain-route")).to_have_text("FAQ answer")
    assert page_log.dialogs == []
    assert page_log.console_errors == []


def test_an_intent_correction_a_review_a_tag_and_a_note_are_kept(page: Page, server: LiveServer) -> None:
    conversation = start_conversation(server, REFUND_QUESTION)
    sign_in(page, server, where=f"/agent#c={conversation}")
    question = messages(page, "customer").first
    expect(question.get_by_test_id("intent-predicted")).to_have_text("refunds")

    question.get_by_test_id("edit-intent").click()
    question.get_by_test_id("intent-select").select_option("__new__")
    question.get_by_test_id("intent-new").fill("refund timing?")
    question.get_by_test_id("intent-save").click()
    expect(question.get_by_role("alert")).to_have_text("Use 1–64 lowercase letters, digits or underscores.")
    question.get_by_test_id("intent-new").fill("refund_timing")
    question.get_by_test_id("intent-save").click()
    expect(question.get_by_test_id("intent-label")).to_have_text("refund_timing")
    answer = messages(page, "bot").first
    answer.get_by_test_id("review-bad").click()
    expect(answer.get_by_test_id("review-bad")).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("tag-input").fill("refunds-policy")
    page.get_by_test_id("tag-input").press("Enter")
    expect(page.get_by_test_id("tag")).to_have_text(["refunds-policy"])
    page.get_by_test_id("note-input").fill("Customer waited 9 days; escalate if it happens again.")
    page.get_by_test_id("note-add").click()
    expect(page.get_by_test_id("note")).to_have_count(1)

    page.reload()

    expect(question.get_by_test_id("intent-label")).to_have_text("refund_timing")
    expect(question).to_contain_text("refunds")  # what the bot said, struck through
    expect(answer.get_by_test_id("review-bad")).to_have_attribute("aria-pressed", "true")
    expect(answer.get_by_test_id("review-good")).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_test_id("tag")).to_have_text(["refunds-policy"])
    expect(page.get_by_test_id("note")).to_contain_text(["Customer waited 9 days; escalate if it happens again."])
    expect(conversation_item(page, conversation).locator(".chip")).to_have_text(["refunds-policy"])
    assert "refund_timing" in page.get_by_test_id("filter-intent").locator("option").all_inner_texts()


def test_the_waiting_view_lists_only_conversations_waiting_for_a_person(page: Page, server: LiveServer) -> None:
    answered_by_bot = start_conversation(server, REFUND_QUESTION)
    waiting = start_conversation(server, ASK_FOR_A_PERSON)
    sign_in(page, server)
    expect(conversation_item(page, answered_by_bot)).to_be_visible()

    page.get_by_test_id("view-waiting").click()

    expect(page.get_by_test_id("inbox-title")).to_have_text("Waiting")
    expect(conversation_item(page, waiting)).to_be_visible()
    expect(conversation_item(page, answered_by_bot)).to_have_count(0)
    states = page.get_by_test_id("conversation-item").evaluate_all("items => items.map(i => i.dataset.state)")
    assert states and set(states) == {"waiting"}, states
    expect(page).to_have_url(re.compile(r"#view=waiting$"))

    page.get_by_test_id("export").click()
    with page.expect_download() as download:
        page.get_by_test_id("export-jsonl").click()
    rows = [json.loads(line) for line in Path(download.value.path()).read_text().splitlines()]
    assert waiting in {row["conversation_id"] for row in rows}
    assert answered_by_bot not in {row["conversation_id"] for row in rows}

    page.reload()
    expect(page.get_by_test_id("inbox-title")).to_have_text("Waiting")
    expect(conversation_item(page, answered_by_bot)).to_have_count(0)


def test_the_inbox_pages_through_search_results_with_load_more(page: Page, server: LiveServer) -> None:
    engine = make_engine(server.database_url)
    store = TranscriptStore(engine)
    for n in range(57):  # more than one page of 50, written straight to the server's database
        conversation, _token = store.open_conversation()
        store.log_customer(conversation, f"Where is parcel ZX-{n:03d}? (pagination probe)")
    engine.dispose()
    sign_in(page, server)

    page.get_by_test_id("search").fill("PAGINATION PROBE")
    page.get_by_test_id("search").press("Enter")

    items = page.get_by_test_id("conversation-item")
    previews = items.get_by_test_id("conversation-preview")
    expect(items).to_have_count(50)
    expect(previews.first).to_have_text("Where is parcel ZX-056? (pagination probe)")  # newest first
    page.get_by_test_id("load-more").click()
    expect(items).to_have_count(57)
    expect(previews.last).to_have_text("Where is parcel ZX-000? (pagination probe)")
    expect(page.get_by_test_id("load-more")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"#q=PAGINATION\+PROBE$"))


def test_another_agent_sees_a_claim_live_and_cannot_reply(page: Page, server: LiveServer) -> None:
    conversation = start_conversation(server, ASK_FOR_A_PERSON)
    sign_in(page, server, name="ravi", where=f"/agent#c={conversation}")
    expect(page.get_by_test_id("accept")).to_be_visible()

    login = httpx.post(f"{server.url}/api/auth/login", json={"name": "maya", "password": PASSWORD}, timeout=30)
    token = login.json()["token"]
    claimed = httpx.post(f"{server.url}/api/agent/conversations/{conversation}/accept",
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert claimed.status_code == 200, claimed.text

    expect(page.get_by_test_id("conversation-state")).to_have_text("With Maya")
    expect(page.get_by_test_id("accept")).to_be_hidden()
    expect(page.get_by_test_id("composer-input")).to_be_disabled()
    expect(page.get_by_test_id("composer-hint")).to_have_text("Maya is handling this conversation.")
    expect(conversation_item(page, conversation).locator(".pill")).to_have_text("With Maya")


def test_the_console_never_parses_text_as_html() -> None:
    for source in CONSOLE_DIR.glob("*.js"):
        text = source.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in text, f"{source.name} uses {sink}"


def test_an_erased_conversation_leaves_the_console_and_the_widget_starts_afresh(
    page: Page, customer: Page, server: LiveServer
) -> None:
    Accounts(TranscriptStore(make_engine(server.database_url))).add_agent("root", PASSWORD, "admin")
    token = httpx.post(f"{server.url}/api/auth/login", json={"name": "root", "password": PASSWORD}).json()["token"]
    admin = {"Authorization": f"Bearer {token}"}
    waiting = httpx.get(f"{server.url}/api/agent/conversations", params={"status": "waiting", "limit": 100},
                        headers=admin).json()["items"]  # earlier tests of this module may have left some
    sign_in(page, server)
    open_demo(customer, server)
    ask(customer, ASK_FOR_A_PERSON)
    answered(customer, 1)
    conversation = stored_session(customer, server)["conversation_id"]
    conversation_item(page, conversation).click()
    expect(page.get_by_test_id("waiting-count")).to_have_text(str(len(waiting) + 1))
    expect(texts(page, "customer")).to_have_text([ASK_FOR_A_PERSON])

    erased = httpx.post(f"{server.url}/api/admin/erasures", json={"conversation_ids": [conversation]},
                        headers=admin, timeout=60)
    assert erased.status_code == 200, erased.text

    expect(conversation_item(page, conversation)).to_have_count(0)
    if waiting:
        expect(page.get_by_test_id("waiting-count")).to_have_text(str(len(waiting)))
    else:
        expect(page.get_by_test_id("waiting-count")).to_be_hidden()
    expect(page.get_by_test_id("console")).to_have_attribute("data-open", "false")
    expect(page.get_by_test_id("toast").filter(has_text="That conversation was erased.")).to_be_visible()
    # the widget forgets the conversation: a new one, nothing of the old on screen
    customer.wait_for_function("([key, old]) => (JSON.parse(localStorage.getItem(key) || 'null') || {})"
                               ".conversation_id !== old", arg=[f"helpline:session:{server.url}", conversation])
    expect(customer.get_by_test_id("helpline-status")).to_have_attribute("data-state", "open")
    expect(customer.get_by_test_id("helpline-messages")).not_to_contain_text(ASK_FOR_A_PERSON)
