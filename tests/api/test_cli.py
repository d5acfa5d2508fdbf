"""The `helpline` console command, run as a subprocess over a real data dir."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from bot.runtime import build_engine
from bot.settings import Settings
from tests.cli import helpline, last_json
from tests.retrieval.faqs import write_two_question_eval
from tests.tiny_models import fresh_data_dir


def test_faq_ingest_reports_the_bad_line_and_keeps_the_old_faq(tmp_path: Path) -> None:
    good = tmp_path / "faq.csv"
    good.write_text("question,answer,category\nDo you ship abroad?,Yes to the EU and UK.,shipping\n")
    assert last_json(helpline("faq", "ingest", str(good), data_dir=tmp_path))["ingested"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nHow do I pay?,By card.\nWhere is my order?,\n")
    result = helpline("faq", "ingest", str(bad), data_dir=tmp_path)
    assert result.returncode == 2
    assert "bad.csv line 3" in result.stderr and "answer" in result.stderr
    kept = (tmp_path / "faq" / "faq.jsonl").read_text()
    assert "Do you ship abroad?" in kept and "How do I pay?" not in kept


def test_eval_retrieval_prints_the_figures(tmp_path: Path) -> None:
    faq, queries = write_two_question_eval(tmp_path)
    figures = last_json(helpline("eval-retrieval", "--faq", str(faq), "--queries", str(queries), data_dir=tmp_path))
    assert figures == {"top1": 1.0, "mrr@10": 1.0, "recall@5": 1.0, "n": 2}


def test_missing_paths_are_clear_errors(tmp_path: Path) -> None:
    result = helpline("eval", "--model", str(tmp_path / "nope"), "--data", "demo/intents_eval.csv", data_dir=tmp_path)
    assert result.returncode == 2 and "nope" in result.stderr
    result = helpline("faq", "ingest", str(tmp_path / "missing.csv"), data_dir=tmp_path,
                      HELPLINE_ENCODER_PATH=str(tmp_path / "no-encoder"))
    assert result.returncode == 2 and "no-encoder" in result.stderr


def test_eval_scores_the_demo_model(demo_model_dir: Path, tmp_path: Path) -> None:
    figures = last_json(helpline("eval", "--model", str(demo_model_dir), "--data", "demo/intents_eval.csv",
                                 data_dir=tmp_path))
    assert figures["n"] >= 120
    assert figures["accuracy"] >= 0.8
    assert {"macro_f1", "in_scope_accuracy", "oos_recall", "oos_precision"} <= figures.keys()


def test_transcripts_export_writes_every_message(demo_data_dir: Path, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'helpline.db'}"
    engine = build_engine(Settings(data_dir=demo_data_dir, database_url=database))
    conversation, _ = engine.store.open_conversation()
    engine.answer(conversation, "Do you ship to Norway?")
    engine.answer(conversation, "thanks!")
    exported = helpline("transcripts", "export", data_dir=demo_data_dir, HELPLINE_DATABASE_URL=database)
    lines = exported.stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["role"] for r in rows] == ["customer", "bot", "customer", "bot"]
    assert rows[1]["route"] == "faq" and rows[1]["model_version"] and rows[1]["latency_ms"] > 0
    out = tmp_path / "t.csv"
    assert helpline("transcripts", "export", "--format", "csv", "-o", str(out), data_dir=demo_data_dir,
                    HELPLINE_DATABASE_URL=database).returncode == 0
    table = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(table) == 4 and table[3]["intent"] == "thanks" and table[2]["text"] == "thanks!"


def test_setup_indexes_the_company_faq_and_keeps_the_served_model(demo_data_dir: Path, tmp_path: Path) -> None:
    data_dir, served = fresh_data_dir(demo_data_dir, tmp_path / "var")
    company = tmp_path / "acme"
    company.mkdir()
    (company / "faq.jsonl").write_text('{"question": "Do you ship to Norway?", "answer": "Yes, in 3-5 days."}\n')
    (company / "company.json").write_text('{"name": "Acme"}')
    result = helpline("setup", "--company", str(company), data_dir=data_dir,
                      HELPLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'helpline.db'}")
    summary = last_json(result)
    assert summary == {"data_dir": str(data_dir), "faq": {"ingested": 1, "version": summary["faq"]["version"]},
                       "model": {"unchanged": served}}
    assert "Training" not in result.stderr  # a model is served: no training run
    assert (data_dir / "company.json").read_text() == '{"name": "Acme"}'
