"""The console's learning pages in headless Chromium against a real server: an admin turns a cluster of
unanswered questions into an FAQ entry that the customer widget answers with at once (no restart); an agent
proposes one, which customers get only once an admin publishes it (and another the admin rejects, with a note);
a cluster is labelled as a new intent; the model versions show a failed load."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from bot.store.db import make_engine
from bot.store.models import ModelVersion, utcnow
from bot.store.transcripts import TranscriptStore
from tests.api.conftest import PageLog
from tests.api.test_gaps_api import (
    BIKES,
    DOG_ANSWER,
    DOG_QUESTION,
    DOGS,
    KAYAK_ANSWER,
    KAYAKS,
    add_admin,
    own_data_dir,
)
from tests.api.widget_page import answered, ask, open_demo
from tests.api.wsclient import Customer
from tests.servers import LiveServer, add_agents, start_server, stop_server

pytestmark = pytest.mark.browser

PASSWORD = "learning console password"
BROKEN = "20990101-000000-dead"


@pytest.fixture(scope="module")
def server(demo_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server on a data dir and database of its own, agent Maya, admin Ada, and customers the bot could not
    answer."""
    workdir = tmp_path_factory.mktemp("learning-console")
    data_dir = own_data_dir(demo_data_dir, workdir / "var")
    live = start_server(data_dir, f"sqlite:///{workdir / 'helpline.db'}", workdir / "server.log")
    try:
        add_agents(live.database_url, PASSWORD, "maya")
        add_admin(live.database_url, "ada", PASSWORD)
        for question in [*KAYAKS, *BIKES, *DOGS]:
            with Customer.open(live.ws_url) as customer:
                assert customer.ask(question).start["route"] == "fallback", question
        yield live
    finally:
        stop_server(live)


def sign_in(page: Page, server: LiveServer, where: str = "/agent", name: str = "maya") -> None:
    response = page.request.post(f"{server.url}/api/auth/login", data={"name": name, "password": PASSWORD})
    assert response.ok, response.text()
    page.goto(f"{server.url}{where}")
    expect(page.get_by_test_id("console")).to_be_visible()


def cluster_with(page: Page, text: str) -> Locator:
    return page.get_by_test_id("gap-cluster").filter(has=page.get_by_test_id("gap-example").filter(has_text=text))


def test_an_faq_entry_an_admin_makes_in_the_console_answers_the_widget_at_once(
    page: Page, customer: Page, server: LiveServer, page_log: PageLog
) -> None:
    sign_in(page, server, name="ada")
    page.get_by_test_id("view-gaps").click()

    expect(page.get_by_test_id("gaps-page")).to_be_visible()
    expect(page.get_by_test_id("conversation-list")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"#page=gaps$"))
    expect(page.get_by_test_id("view-gaps")).to_have_attribute("aria-current", "true")
    expect(page.get_by_test_id("view-all")).to_have_attribute("aria-current", "false")
    clusters = page.get_by_test_id("gap-cluster")
    expect(clusters.get_by_test_id("gap-size")).to_have_text(["3", "2", "2"])  # largest first
    kayaks = clusters.first
    expect(kayaks.get_by_test_id("gap-example")).to_have_count(3)
    for text in KAYAKS:
        expect(kayaks).to_contain_text(text)
    expect(page.get_by_test_id("gaps-count")).to_have_text("7 questions in 3 groups")

    expect(kayaks.get_by_test_id("gap-faq-open")).to_have_text("Add FAQ entry")  # an admin's adds at once
    kayaks.get_by_test_id("gap-faq-open").click()
    form = kayaks.get_by_test_id("gap-faq-form")
    question = form.get_by_test_id("gap-faq-question")
    expect(question).to_have_value(kayaks.get_by_test_id("gap-question").inner_text())  # the typical wording
    form.get_by_test_id("gap-faq-save").click()
    expect(form.get_by_role("alert")).to_have_text("Write both the question and the answer.")
    question.fill("Can I rent a kayak?")
    form.get_by_test_id("gap-faq-answer").fill(KAYAK_ANSWER)
    form.get_by_test_id("gap-faq-category").select_option("products")
    form.get_by_test_id("gap-faq-save").click()

    expect(page.get_by_test_id("toast").filter(has_text="Added to the FAQ")).to_be_visible()
    expect(clusters).to_have_count(2)
    expect(page.get_by_test_id("gaps-count")).to_have_text("4 questions in 2 groups")

    # the customer asks in the widget, on the same running server: the new entry answers
    open_demo(customer, server)
    ask(customer, "Do you rent out kayaks for the weekend?")
    expect(answered(customer, 1)).to_contain_text(KAYAK_ANSWER)

    page.reload()  # the page and what is left stay
    expect(page.get_by_test_id("gaps-page")).to_be_visible()
    expect(clusters).to_have_count(2)
    expect(page.get_by_test_id("view-all")).to_have_attribute("aria-current", "false")  # after the intents load
    page.get_by_test_id("view-all").click()
    expect(page.get_by_test_id("gaps-page")).to_be_hidden()
    expect(page.get_by_test_id("conversation-list")).to_be_visible()
    expect(page.get_by_test_id("view-all")).to_have_attribute("aria-current", "true")
    expect(page.get_by_test_id("view-gaps")).to_have_attribute("aria-current", "false")
    assert page_log.console_errors == []


def proposal(page: Page, question: str) -> Locator:
    asked = page.get_by_test_id("proposal-question").filter(has_text=question)
    return page.get_by_test_id("proposal").filter(has=asked)


def test_an_agent_proposes_an_faq_entry_that_answers_the_widget_once_an_admin_publishes_it(
    page: Page, customer: Page, browser: Browser, server: LiveServer, page_log: PageLog
) -> None:
    sign_in(page, server, "/agent#page=gaps")
    dogs = cluster_with(page, DOGS[0])
    dogs.get_by_role("button", name="Propose FAQ entry").click()
    form = dogs.get_by_test_id("gap-faq-form")
    expect(form).to_contain_text("An admin reviews the entry before customers get it")
    form.get_by_role("textbox", name="Question").fill("Do you sell coats for dogs?")
    form.get_by_role("textbox", name="Answer").fill("Yes, we do.")
    form.get_by_role("button", name="Propose", exact=True).click()

    expect(page.get_by_test_id("toast").filter(has_text="An admin will publish it")).to_be_visible()
    expect(dogs).to_have_count(0)  # the questions wait with the proposal
    open_demo(customer, server)
    ask(customer, DOG_QUESTION)
    unpublished = answered(customer, 1)
    expect(unpublished).to_have_attribute("data-route", "fallback")  # customers do not get a proposal
    expect(unpublished).not_to_contain_text("Yes, we do")
    page.get_by_test_id("view-proposals").click()
    mine = proposal(page, "Do you sell coats for dogs?")
    expect(mine.get_by_test_id("proposal-status")).to_have_text("Waiting for an admin")
    expect(page.get_by_test_id("proposals-count")).to_be_hidden()  # the badge is the admins'

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        admin = context.new_page()
        sign_in(admin, server, name="ada")
        expect(admin.get_by_test_id("proposals-count")).to_have_text("1")
        admin.get_by_test_id("view-proposals").click()
        expect(admin).to_have_url(re.compile(r"#page=proposals$"))
        expect(admin.get_by_test_id("view-proposals")).to_have_attribute("aria-current", "true")
        waiting = proposal(admin, "Do you sell coats for dogs?")
        expect(waiting.get_by_test_id("proposal-by")).to_contain_text("Proposed by Maya")
        waiting.get_by_role("textbox", name="Answer").fill(DOG_ANSWER)  # the admin edits before publishing
        waiting.get_by_role("combobox", name="Category").select_option("products")
        waiting.get_by_role("button", name="Publish").click()

        expect(admin.get_by_test_id("toast").filter(has_text="The bot answers it now")).to_be_visible()
        expect(admin.get_by_test_id("proposal")).to_have_count(0)
        expect(admin.get_by_test_id("proposals-empty")).to_be_visible()
        expect(admin.get_by_test_id("proposals-count")).to_be_hidden()
        ask(customer, DOG_QUESTION)  # the same widget, the same server: answered now
        expect(answered(customer, 2)).to_contain_text(DOG_ANSWER)
        page.get_by_test_id("proposals-refresh").click()
        expect(mine.get_by_test_id("proposal-status")).to_have_text("Published")
        expect(mine).to_contain_text("Published by Ada")
        expect(mine.get_by_test_id("proposal-answer")).to_have_text(DOG_ANSWER)

        # another proposal, rejected with a note: its questions come back, the agent reads why
        page.get_by_test_id("view-gaps").click()
        bikes = cluster_with(page, BIKES[0])
        bikes.get_by_role("button", name="Propose FAQ entry").click()
        bikes.get_by_role("textbox", name="Answer").fill("We only sell bike racks.")
        bikes.get_by_role("button", name="Propose", exact=True).click()
        expect(bikes).to_have_count(0)
        admin.get_by_test_id("proposals-refresh").click()
        rejected = admin.get_by_test_id("proposal")
        expect(rejected).to_have_count(1)
        rejected.get_by_role("button", name="Reject…").click()
        rejected.get_by_role("textbox", name="Note for Maya").fill("We sell no bikes nor racks.")
        rejected.get_by_role("button", name="Reject proposal").click()
        expect(admin.get_by_test_id("toast").filter(has_text="back under Unanswered")).to_be_visible()
        expect(admin.get_by_test_id("proposal")).to_have_count(0)
    finally:
        context.close()
    page.get_by_test_id("gaps-refresh").click()
    expect(cluster_with(page, BIKES[0])).to_have_count(1)
    page.get_by_test_id("view-proposals").click()
    expect(page.get_by_test_id("proposal-note")).to_have_text("Note from Ada: We sell no bikes nor racks.")
    assert page_log.console_errors == []


def test_a_cluster_labelled_as_a_new_intent_leaves_the_list(page: Page, server: LiveServer) -> None:
    sign_in(page, server, "/agent#page=gaps")
    bikes = cluster_with(page, BIKES[0])
    expect(bikes).to_have_count(1)

    bikes.get_by_test_id("gap-intent-open").click()
    bikes.get_by_test_id("intent-select").select_option("__new__")
    bikes.get_by_test_id("intent-new").fill("bicycles")
    bikes.get_by_test_id("intent-save").click()

    expect(page.get_by_test_id("toast").filter(has_text="2 questions labelled bicycles")).to_be_visible()
    expect(bikes).to_have_count(0)
    assert "bicycles" in page.get_by_test_id("filter-intent").locator("option").all_inner_texts()
    page.get_by_test_id("gaps-refresh").click()
    expect(cluster_with(page, BIKES[0])).to_have_count(0)


def test_the_models_page_shows_versions_decisions_and_a_failed_load(page: Page, server: LiveServer) -> None:
    serving = httpx.get(f"{server.url}/health", timeout=10).json()["model_version"]
    models = server.data_dir / "models"
    (models / BROKEN).mkdir()
    (models / BROKEN / "config.json").write_text("{ not json")
    (models / BROKEN / "report").mkdir()
    (models / BROKEN / "report" / "index.html").write_text("<h1>Evaluation of the broken model</h1>")
    engine = make_engine(server.database_url)
    store = TranscriptStore(engine)
    now = utcnow()
    metrics = {"accuracy": 0.9, "macro_f1": 0.88, "oos_recall": 0.8}
    with store.session() as session, session.begin():
        session.add(ModelVersion(
            version=serving, status="retired", trained_from="base", created_at=now - timedelta(days=2),
            promoted_at=now - timedelta(days=2), metrics=metrics,
            decision={"promote": True, "forced": False, "reasons": ["first model"]},
        ))
        session.add(ModelVersion(
            version="20990101-000000-weak", status="rejected", trained_from=serving,
            created_at=now - timedelta(days=1), metrics={"accuracy": 0.85, "macro_f1": 0.8},
            baseline_metrics={"accuracy": 0.9, "macro_f1": 0.88},
            decision={"promote": False, "forced": False, "reasons": ["macro-F1 fell 0.080 (> 0.01)"]},
        ))
        session.add(ModelVersion(  # promoted by hand, but its folder is broken: the server must refuse it
            version=BROKEN, status="production", trained_from=serving, created_at=now, promoted_at=now,
            metrics={"accuracy": 0.91, "macro_f1": 0.9}, baseline_metrics={"accuracy": 0.9, "macro_f1": 0.88},
            decision={"promote": True, "forced": True, "reasons": ["promoted by hand"]},
        ))
    engine.dispose()
    deadline = time.monotonic() + 30
    while httpx.get(f"{server.url}/health", timeout=10).json().get("load_error") is None:
        assert time.monotonic() < deadline, "the server never tried the broken model"
        time.sleep(0.5)

    sign_in(page, server, "/agent#page=models")

    expect(page.get_by_test_id("models-serving")).to_have_text(serving)  # the old model kept serving
    expect(page.get_by_test_id("models-production")).to_have_text(BROKEN)
    expect(page.get_by_test_id("models-load-error")).to_contain_text(BROKEN)
    rows = page.get_by_test_id("model-row")
    expect(rows).to_have_count(3)
    expect(rows.get_by_test_id("model-version")).to_have_text([BROKEN, "20990101-000000-weak", serving])
    broken, weak, old = rows.nth(0), rows.nth(1), rows.nth(2)
    expect(broken.get_by_test_id("model-status")).to_have_text("production")
    expect(broken.get_by_test_id("model-decision")).to_contain_text("Promoted by hand (forced)")
    expect(broken.get_by_test_id("model-load-error")).to_be_visible()
    report = broken.get_by_test_id("model-report")
    expect(report).to_have_attribute("href", f"/api/agent/models/{BROKEN}/report/")
    opened = page.request.get(server.url + str(report.get_attribute("href")))
    assert opened.ok and "Evaluation of the broken model" in opened.text()
    expect(weak.get_by_test_id("model-status")).to_have_text("rejected")
    expect(weak.get_by_test_id("model-decision")).to_have_attribute("data-promote", "false")
    expect(weak.get_by_test_id("model-reasons")).to_have_text("macro-F1 fell 0.080 (> 0.01)")
    expect(weak.locator('[data-metric="macro_f1"] .delta')).to_have_text("-0.080")
    expect(weak.get_by_test_id("model-report")).to_have_count(0)
    expect(old.get_by_test_id("model-serving")).to_be_visible()
    expect(old.get_by_test_id("metric-oos_recall")).to_have_text("0.800")
