"""`helpline import rasa`, run as the console command, and `helpline setup` on the folder it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.api.wsclient import Customer
from tests.bot.rasa.rasa_project import ENDPOINTS, NLU, write_project
from tests.cli import helpline, last_json
from tests.servers import ActionServerProcess, free_port, start_server, stop_server


def test_import_writes_the_folder_and_prints_what_stayed_behind(tmp_path: Path) -> None:
    project, out = write_project(tmp_path / "acme-shop"), tmp_path / "company"
    result = helpline("import", "rasa", str(project), "--out", str(out), data_dir=tmp_path / "var")
    summary = last_json(result)
    assert summary["out"] == str(out) and summary["examples"] == 14 and summary["eval_examples"] == 3
    assert summary["forms"] == 1 and summary["not_carried"] >= 8
    assert {"intents.csv", "intents_eval.csv", "domain.yml", "rules.yml", "endpoints.yml", "entities.json",
            "company.json", "faq.jsonl", "import_report.md"} == set(summary["written"])
    assert "  - data/stories.yml: 2 stories not carried over" in result.stdout
    assert "  - config.yml: policy TEDPolicy not carried over" in result.stdout
    assert f"next: helpline setup --company {out}" in result.stdout
    assert json.loads((out / "company.json").read_text())["name"] == "Acme Shop"


def test_errors_name_the_file_and_line_and_a_full_folder_is_refused(tmp_path: Path) -> None:
    nlu = NLU.replace("- intent: goodbye\n", "- intent: goodbye\n  examples: [\n", 1)
    project = write_project(tmp_path / "shop", nlu=nlu)
    result = helpline("import", "rasa", str(project), "--out", str(tmp_path / "out"), data_dir=tmp_path / "var")
    assert result.returncode == 2 and result.stderr.startswith("helpline: error: data/nlu.yml line ")
    project = write_project(tmp_path / "shop", nlu=NLU)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    result = helpline("import", "rasa", str(project), "--out", str(tmp_path / "full"), data_dir=tmp_path / "var")
    assert result.returncode == 2 and "pass --force" in result.stderr
    result = helpline("import", "rasa", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"),
                      data_dir=tmp_path / "var")
    assert result.returncode == 2 and "Rasa project folder not found" in result.stderr


@pytest.mark.slow
def test_setup_runs_on_the_imported_folder(tmp_path: Path) -> None:
    out = tmp_path / "company"
    last_json(helpline("import", "rasa", str(write_project(tmp_path / "shop")), "--out", str(out),
                       data_dir=tmp_path / "var"))
    summary = last_json(helpline("setup", "--company", str(out), "--epochs", "1", data_dir=tmp_path / "var",
                                 HELPLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'helpline.db'}"))
    assert summary["faq"]["ingested"] == 2
    assert summary["model"]["eval"]["n"] == 3  # intents_eval.csv, held out by the import
    assert (tmp_path / "var" / "company.json").read_text() == (out / "company.json").read_text()


@pytest.mark.slow
def test_an_imported_project_answers_with_its_actions(tmp_path: Path, action_server: ActionServerProcess) -> None:
    """Import, set up, serve: the imported endpoints.yml reaches the team's action server (its headers, basic
    auth and token from the environment), the imported responses and forms answer, and the setting overrides
    the endpoint's URL."""
    out, var = tmp_path / "company", tmp_path / "var"
    endpoints = ENDPOINTS.replace("http://localhost:5055/webhook", action_server.url)
    last_json(helpline("import", "rasa", str(write_project(tmp_path / "shop", endpoints=endpoints)), "--out",
                       str(out), data_dir=var))
    database = f"sqlite:///{tmp_path / 'helpline.db'}"
    last_json(helpline("setup", "--company", str(out), "--epochs", "1", data_dir=var, HELPLINE_DATABASE_URL=database))
    secrets = {"ACTION_PASSWORD": "s3cret", "ACTION_TOKEN": "t0ken", "HELPLINE_STREAM_DELAY_MS": "0"}
    server = start_server(var, database, tmp_path / "server.log", **secrets)
    try:
        with Customer.open(server.ws_url) as customer:
            hello = customer.ask("/greet")  # a rule's response, rendered from the imported domain
            assert hello.start["route"] == "action" and hello.text in ("Hello! How can I help?", "Hi there!")
            status = customer.ask('/order_status{"order_id": "4471"}')  # a custom action on the team's server
            assert status.start["action"] == "action_order_status" and "on its way" in status.text
            form = customer.ask("/return_item")  # the imported form starts, and asks with the domain's response
            assert form.start["action"] == "return_form"
    finally:
        stop_server(server)
    moved = start_server(var, database, tmp_path / "moved.log", **secrets,
                         HELPLINE_ACTION_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}/webhook")
    try:  # the setting wins over endpoints.yml: nothing listens there, and the customer is told so
        with Customer.open(moved.ws_url) as customer:
            failed = customer.ask('/order_status{"order_id": "4471"}')
        assert failed.end["suggestions"] == ["Talk to a person"]
    finally:
        stop_server(moved)
