"""The ``helpline`` command: serve, set up the demo, train, evaluate, ingest FAQs, export transcripts.

Every command reads the same ``Settings`` (``HELPLINE_*`` variables), so ``HELPLINE_DATA_DIR`` points
them all at one place. Commands that report figures print one JSON object as their last line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from api.commands import dataset, models, retrain
from bot.settings import Settings

DEMO = Path(__file__).resolve().parents[1] / "demo"


def _print_json(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, sort_keys=False))


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _encoder(settings: Settings) -> Any:
    from retrieval.encoder import SentenceEncoder

    return SentenceEncoder(settings.encoder_path, device=settings.device)


def cmd_faq_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from retrieval.store import FaqStore

    report = FaqStore(settings.faq_dir, _encoder(settings)).ingest(Path(args.file))
    _print_json({"ingested": report.count, "version": report.version, "categories": report.categories})
    return 0


def cmd_eval_retrieval(args: argparse.Namespace, settings: Settings) -> int:
    from retrieval.evaluate import evaluate_retrieval, load_queries
    from retrieval.faq import load_faq
    from retrieval.store import FaqRetriever

    queries = load_queries(Path(args.queries))  # validate both files before loading the encoder
    entries = load_faq(Path(args.faq))
    retriever = FaqRetriever.from_entries(entries, _encoder(settings))
    _print_json(evaluate_retrieval(retriever, queries))
    return 0


def _train(data: Path, out: Path | None, epochs: int | None, settings: Settings, promote: bool) -> dict[str, Any]:
    from retrieval.encoder import default_encoder_path
    from training.args import TrainingArguments
    from training.data import load_examples
    from training.registry import ModelRegistry
    from training.trainer import train

    examples = load_examples(data)
    overrides: dict[str, Any] = {"device": settings.device}
    if epochs is not None:
        overrides["epochs"] = epochs
    registry = ModelRegistry(settings.models_dir)
    target = out or registry.new_version_path()
    result = train(examples, TrainingArguments(**overrides), settings.encoder_path or default_encoder_path(), target)
    if out is None and promote:
        _register_promoted(settings, target.name, data)
    return {"model": str(result.path), "version": result.path.name, **result.metrics}


def _register_promoted(settings: Settings, version: str, data: Path) -> None:
    """Catalogue a model trained from the base encoder and serve it (a row + CURRENT, like `helpline retrain`)."""
    from bot.learning import catalog
    from bot.learning.reloader import notify_replicas
    from bot.runtime import open_store
    from training.registry import ModelRegistry

    store, registry = open_store(settings), ModelRegistry(settings.models_dir)
    try:
        catalog.register_candidate(store, version, trained_from="base", data_summary={"data": data.name})
        catalog.promote(store, registry, version, {"promote": True, "forced": False,
                                                   "reasons": [f"trained from {data.name} and made current"]})
    finally:
        store.engine.dispose()
    notify_replicas(settings, "model")


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    out = Path(args.out) if args.out else None
    _print_json(_train(Path(args.data), out, args.epochs, settings, promote=True))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from training.data import load_examples
    from training.evaluate import evaluate
    from training.model import IntentClassifier

    examples = load_examples(Path(args.data))
    classifier = IntentClassifier.load(Path(args.model), device=settings.device)
    _print_json(evaluate(classifier, examples))
    return 0


def cmd_setup(args: argparse.Namespace, settings: Settings) -> int:
    """Prepare a company in the data dir: replies, FAQ index, and a first model if none is served."""
    from retrieval.faq import faq_version, load_faq
    from retrieval.store import FaqStore
    from training.registry import ModelRegistry

    company = Path(args.company)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if (company / "company.json").exists():
        shutil.copyfile(company / "company.json", settings.data_dir / "company.json")
    settings.seed_dir.mkdir(parents=True, exist_ok=True)
    for name in ("intents.csv", "intents_eval.csv"):  # what `helpline retrain` starts from
        if (company / name).exists():
            shutil.copyfile(company / name, settings.seed_dir / name)
    store = FaqStore(settings.faq_dir, _encoder(settings))
    faq_file = company / "faq.jsonl"
    summary: dict[str, Any] = {"data_dir": str(settings.data_dir)}
    if store.version() != faq_version(load_faq(faq_file)):
        report = store.ingest(faq_file)
        summary["faq"] = {"ingested": report.count, "version": report.version}
    else:
        summary["faq"] = {"unchanged": store.version()}
    current = ModelRegistry(settings.models_dir).current()
    if current is None or args.retrain:
        print("Training the first intent model (one-off; later starts reuse it)…", file=sys.stderr)
        summary["model"] = _train(company / "intents.csv", None, args.epochs, settings, promote=True)
        if (company / "intents_eval.csv").exists():
            from training.data import load_examples
            from training.evaluate import evaluate
            from training.model import IntentClassifier

            model = IntentClassifier.load(Path(summary["model"]["model"]), device=settings.device)
            summary["model"]["eval"] = evaluate(model, load_examples(company / "intents_eval.csv"))
    else:
        summary["model"] = {"unchanged": current.name}
    _print_json(summary)
    return 0


def cmd_transcripts_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.learning.training_data import training_redactor
    from bot.runtime import open_store
    from bot.store.transcripts import EXPORT_FIELDS

    store, redactor = open_store(settings), training_redactor(settings)
    out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    try:
        if args.format == "csv":
            writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
            writer.writeheader()
            writer.writerows(store.export_rows(redactor))
        else:
            for row in store.export_rows(redactor):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def _read_new_password() -> str:
    """The new agent's password: prompted twice on a terminal, else the first line of standard input."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat the password: ") != password:
        raise ValueError("the passwords do not match")
    return password


def cmd_agents_add(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store.db import make_engine, migrate
    from bot.store.transcripts import TranscriptStore
    from bot.workspace.accounts import Accounts, check_new_password

    password = _read_new_password()
    check_new_password(password)
    engine = make_engine(settings.resolved_database_url)  # no model to load: start in a second, not ten
    migrate(engine)
    agent = Accounts(TranscriptStore(engine), settings.session_hours).add_agent(
        args.name, password, args.role, args.display_name
    )
    _print_json(agent.to_dict())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the widget, the customer socket and the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    setup = sub.add_parser("setup", help="prepare a company (FAQ index, first model) in the data dir")
    setup.add_argument("--company", default=str(DEMO), help="folder with faq.jsonl, intents.csv, company.json")
    setup.add_argument("--epochs", type=int, default=None, help="training epochs for the first model")
    setup.add_argument("--retrain", action="store_true", help="train a new model even if one is served")
    setup.set_defaults(func=cmd_setup)

    train = sub.add_parser("train", help="fine-tune the intent classifier on a CSV (text + intent/label/category)")
    train.add_argument("--data", required=True)
    train.add_argument("--out", help="model folder; default a new version in the registry, made current")
    train.add_argument("--epochs", type=int)
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("eval", help="evaluate a model folder on a labelled CSV")
    ev.add_argument("--model", required=True)
    ev.add_argument("--data", required=True)
    ev.set_defaults(func=cmd_eval)

    faq = sub.add_parser("faq", help="manage the FAQ").add_subparsers(dest="faq_command", required=True)
    ingest = faq.add_parser("ingest", help="validate a CSV/JSONL FAQ and replace the served one with it")
    ingest.add_argument("file")
    ingest.set_defaults(func=cmd_faq_ingest)

    er = sub.add_parser("eval-retrieval", help="top-1, MRR@10 and recall@5 of the retriever on a query set")
    er.add_argument("--faq", required=True)
    er.add_argument("--queries", required=True)
    er.set_defaults(func=cmd_eval_retrieval)

    tr = sub.add_parser("transcripts", help="logged conversations").add_subparsers(
        dest="transcripts_command", required=True
    )
    export = tr.add_parser("export", help="write every logged message with its intent, route and scores")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--output", "-o", help="file to write; default standard output")
    export.set_defaults(func=cmd_transcripts_export)

    agents = sub.add_parser("agents", help="console accounts").add_subparsers(dest="agents_command", required=True)
    add = agents.add_parser("add", help="create an agent; the password is prompted (or read from standard input)")
    add.add_argument("name", help="login name")
    add.add_argument("--role", choices=["agent", "admin"], default="agent")
    add.add_argument("--display-name", help="the name customers and colleagues see; default NAME")
    add.set_defaults(func=cmd_agents_add)
    for module in (dataset, retrain, models):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        return func(args, Settings())
    except (FileNotFoundError, ValueError) as exc:  # bad paths and bad files get one clear line
        print(f"helpline: error: {exc}", file=sys.stderr)
        for other in getattr(exc, "others", []):  # every bad row of a file, not only the first
            print(f"helpline: error: {other}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
