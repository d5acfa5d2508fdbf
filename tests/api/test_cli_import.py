"""`helpline import rasa`, run as the console command, and `helpline setup` on the folder it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bot.rasa.rasa_project import NLU, write_project
from tests.cli import helpline, last_json


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
