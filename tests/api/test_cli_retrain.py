"""`helpline retrain` and `helpline models` over a data dir with a small real model (the installed command once,
then `api.cli.main` in this process, which saves loading torch for every command)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from api.cli import main
from tests.cli import helpline, last_json
from tests.tiny_models import SWAPPED, write_intents
from training.registry import ModelRegistry

INTENTS = {
    "salutation": ["hello", "hi there", "hey", "good morning", "hello, anyone there?", "hi!", "greetings",
                   "hey hello", "good afternoon", "hiya"],
    "parcel_status": ["where is my parcel", "my order has not arrived", "track my order",
                      "when will my package come", "order status please", "where is my delivery",
                      "has my order shipped", "is my parcel late", "my package is missing", "no sign of my order"],
    "farewell": ["bye", "goodbye", "see you", "thanks, bye", "that's all, bye", "cheers, goodbye",
                 "have a nice day", "talk later", "bye for now", "see you soon"],
}
EVAL = {
    "salutation": ["hello there", "hi, good morning", "hey there", "good evening", "hi all", "hello hello"],
    "parcel_status": ["where's my package", "order not delivered", "tracking my parcel", "parcel is late",
                      "status of my delivery", "my order still has not come"],
    "farewell": ["ok bye", "goodbye and thanks", "see ya", "bye bye", "have a good one", "later, bye"],
}



@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with seed data and a small model (2 epochs, 32 tokens) served from the registry."""
    from training.args import TrainingArguments
    from training.data import load_examples
    from training.trainer import train

    data_dir = tmp_path_factory.mktemp("retrain-template")
    seed = write_intents(data_dir / "seed" / "intents.csv", INTENTS)
    write_intents(data_dir / "seed" / "intents_eval.csv", EVAL)
    registry = ModelRegistry(data_dir / "models")
    version = registry.new_version_path()
    args = TrainingArguments(epochs=2, max_length=32, batch_size=8, seed=0, patience=0, device="cpu")
    train(load_examples(seed), args, None, version, progress=False)
    registry.promote(version.name)
    return data_dir


@pytest.fixture
def data_dir(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the template that this test may change; in-process commands use it too."""
    data_dir = Path(shutil.copytree(template, tmp_path / "var"))
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(data_dir))
    return data_dir


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `helpline` in this process (the data dir comes from HELPLINE_DATA_DIR): exit code, stdout, stderr."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def last(output: tuple[int, str, str]) -> dict[str, Any]:
    code, out, err = output
    assert code == 0, err
    parsed: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return parsed


def test_a_worse_candidate_is_refused_then_the_catalog_promotes_and_rolls_back(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = ModelRegistry(data_dir / "models").current()
    assert first is not None
    worse = write_intents(data_dir / "swapped.csv", INTENTS, rename=SWAPPED)

    # the installed command, once, as a user runs it
    refused = last_json(helpline("retrain", "--quiet", "--epochs", "1", "--from", "base", "--data", str(worse),
                                 data_dir=data_dir))
    assert refused["promoted"] is False and refused["forced"] is False
    assert any("drops more than the tolerance" in reason for reason in refused["reasons"])
    assert refused["baseline_metrics"]["n"] == refused["metrics"]["n"] == 18
    report = Path(refused["report"])
    assert report.is_file() and (report.parent / "confusion_matrix.png").is_file()
    assert ModelRegistry(data_dir / "models").current() == first  # nothing changed for customers

    promoted = last(cli(capsys, "retrain", "--quiet", "--epochs", "1", "--tolerance", "0.5"))  # seed data + logs
    assert promoted["promoted"] is True and promoted["forced"] is False
    assert ModelRegistry(data_dir / "models").current() == data_dir / "models" / promoted["version"]

    listing = last(cli(capsys, "models", "list"))
    rows = {row["version"]: row for row in listing["versions"]}
    assert listing["production"] == promoted["version"]
    assert rows[first.name]["status"] == "retired"
    assert rows[refused["version"]]["status"] == "rejected"
    assert rows[refused["version"]]["decision"]["reasons"] == refused["reasons"]
    assert rows[refused["version"]]["trained_from"] == "base"
    assert rows[promoted["version"]]["trained_from"] == first.name
    assert rows[promoted["version"]]["decision"]["previous"] == first.name
    assert rows[promoted["version"]]["metrics"]["per_intent"]["farewell"]["support"] == 6
    assert rows[promoted["version"]]["data_summary"]["by_source"]["seed"] == 30

    assert last(cli(capsys, "models", "rollback")) == {"production": first.name, "retired": promoted["version"]}
    assert ModelRegistry(data_dir / "models").current() == first

    forced = last(cli(capsys, "models", "promote", refused["version"]))
    assert forced["forced"] is True and forced["previous"] == first.name
    row = {r["version"]: r for r in last(cli(capsys, "models", "list"))["versions"]}[refused["version"]]
    assert row["status"] == "production" and row["decision"]["forced"] is True


def test_force_promotes_a_refused_candidate_and_says_so(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    worse = write_intents(data_dir / "swapped.csv", INTENTS, rename=SWAPPED)
    output = cli(capsys, "retrain", "--quiet", "--epochs", "1", "--from", "base", "--data", str(worse), "--force")
    forced = last(output)
    assert forced["promoted"] is True and forced["forced"] is True
    assert forced["reasons"][-1] == "forced with --force"
    assert "(forced)" in output[1]
    assert ModelRegistry(data_dir / "models").current() == data_dir / "models" / forced["version"]


def test_missing_seed_data_and_bad_options_are_clear_errors(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (data_dir / "seed" / "intents_eval.csv").unlink()
    code, _, err = cli(capsys, "retrain")
    assert code == 2 and "intents_eval.csv" in err and "helpline setup" in err
    code, _, err = cli(capsys, "retrain", "--tolerance", "-1")
    assert code == 2 and "--tolerance" in err
    code, _, err = cli(capsys, "models", "promote", "no-such-version")
    assert code == 2 and "no-such-version" in err
    code, _, err = cli(capsys, "models", "rollback")  # the only model has nothing before it
    assert code == 2 and "nothing to go back to" in err
    assert last(cli(capsys, "models", "list"))["production"]


@pytest.mark.slow  # a default-size training run (128 tokens)
def test_helpline_train_catalogues_the_model_it_makes_current(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HELPLINE_DATA_DIR", str(tmp_path))
    data = write_intents(tmp_path / "intents.csv", INTENTS)
    trained = last(cli(capsys, "train", "--data", str(data), "--epochs", "1"))
    listing = last(cli(capsys, "models", "list"))
    assert listing["production"] == trained["version"] == ModelRegistry(tmp_path / "models").current().name  # type: ignore[union-attr]
    (row,) = listing["versions"]
    assert row["status"] == "production" and row["trained_from"] == "base"
    assert row["decision"]["reasons"] == ["trained from intents.csv and made current"]
