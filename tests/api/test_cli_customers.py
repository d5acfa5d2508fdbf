"""`helpline customers erase|purge|erasures` run as subprocesses over a real database, as an operator (or cron)
runs them."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

from bot.services.datasets import build_training_set
from bot.settings import Settings
from bot.store.db import make_engine, migrate
from bot.store.erasure import existing
from bot.store.models import utcnow
from bot.store.transcripts import TranscriptStore
from bot.workspace.accounts import Accounts
from tests.cli import helpline, last_json
from tests.conversations import Filled, fill_conversation, make_idle, table_counts


def logged(tmp_path: Path) -> tuple[TranscriptStore, Filled, Filled]:
    """A database with two full conversations (and seed data beside it, for `dataset build`)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'helpline.db'}")
    migrate(engine)
    store = TranscriptStore(engine)
    agent = Accounts(store).add_agent("maya", "correct horse battery").id
    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "intents.csv").write_text("text,intent\nwhere is my order,orders\n")
    return store, fill_conversation(store, agent, "anna"), fill_conversation(store, agent, "ben")


def test_erase_removes_the_conversations_and_their_training_rows_and_says_what_went(tmp_path: Path) -> None:
    store, anna, ben = logged(tmp_path)
    written = build_training_set(Settings(data_dir=tmp_path, database_url=str(store.engine.url)))
    env = {"HELPLINE_DATABASE_URL": str(store.engine.url)}

    unknown = helpline("customers", "erase", anna.id, "0ff1ce", data_dir=tmp_path, **env)
    assert unknown.returncode == 2
    assert "no such conversation: 0ff1ce (nothing was erased)" in unknown.stderr
    assert existing(store, [anna.id]) == {anna.id}

    result = helpline("customers", "erase", anna.id, data_dir=tmp_path, **env)
    report = last_json(result)
    assert f"erased {anna.id}: " in result.stdout and "6 messages" in result.stdout
    assert report["conversations"][0]["status"] == "erased" and report["conversations"][0]["erased_by"] == "cli"
    assert report["files"] == {"training_rows": 1, "report_examples": 0, "files": 1}
    assert existing(store, [anna.id, ben.id]) == {ben.id}
    left = [row for path in (written.out, written.held_out_out)
            for row in csv.DictReader(path.read_text().splitlines())]
    assert {row["conversation_id"] for row in left} == {"", ben.id}
    assert not [text for text in anna.texts if text in result.stdout + result.stderr]  # no content echoed

    again = helpline("customers", "erase", anna.id, data_dir=tmp_path, **env)
    assert again.returncode == 0 and f"already erased {anna.id}" in again.stdout and "by cli" in again.stdout
    assert last_json(again)["conversations"][0]["status"] == "already_erased"

    listed = last_json(helpline("customers", "erasures", data_dir=tmp_path, **env))
    assert [(e["conversation_id"], e["erased_by"]) for e in listed["erasures"]] == [(anna.id, "cli")]
    store.engine.dispose()


def test_purge_runs_the_retention_pass_once_and_a_dry_run_deletes_nothing(tmp_path: Path) -> None:
    store, anna, ben = logged(tmp_path)
    make_idle(store, anna.id, utcnow() - timedelta(days=8))
    env = {"HELPLINE_DATABASE_URL": str(store.engine.url), "HELPLINE_RETENTION_DAYS": "7"}
    before = table_counts(store)

    planned = last_json(helpline("customers", "purge", "--dry-run", data_dir=tmp_path, **env))
    assert planned["dry_run"] is True and planned["conversations"] == 1
    assert table_counts(store) == before

    done = last_json(helpline("customers", "purge", data_dir=tmp_path, **env))
    assert done["dry_run"] is False and done["conversations"] == 1
    assert existing(store, [anna.id, ben.id]) == {ben.id}
    assert done["logins"] == {"login_attempts": 0, "agent_sessions": 0}

    off = helpline("customers", "purge", data_dir=tmp_path, HELPLINE_DATABASE_URL=str(store.engine.url),
                   HELPLINE_LOGIN_RETENTION_DAYS="")
    assert last_json(off)["conversations"] == 0 and "retention is off" in off.stderr
    store.engine.dispose()
