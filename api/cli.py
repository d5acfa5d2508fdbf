"""The ``helpline`` command: serve, set up the demo, train, evaluate, ingest FAQs, export transcripts.

Every command reads the same ``Settings`` (``HELPLINE_*`` variables), so ``HELPLINE_DATA_DIR`` points
them all at one place. Commands that report figures print one JSON object as their last line. The work
itself is done by ``bot.services``; the sub-commands in ``api.commands`` parse, call and print.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from types import FrameType

# The entry point: set before anything imports transformers (nothing downloads at run time).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from api.commands import (
    agents,
    customers,
    dataset,
    faq,
    import_rasa,
    models,
    note,
    retrain,
    setup,
    training,
    transcripts,
)
from bot.settings import Settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app
    from api.serving import DrainingServer

    with contextlib.ExitStack() as running:
        if args.actions:
            from bot.services.action_server import ActionServerFailed

            try:
                settings = running.enter_context(action_server_beside(args, settings))
            except ActionServerFailed as exc:
                print(f"helpline: error: {exc}", file=sys.stderr)
                return 2
        # No permessage-deflate: chat frames are a few hundred bytes, and compressing them cost 2.5% of a busy
        # server's CPU (benchmarks/RESULTS.md, the end-to-end profile) plus a zlib context kept per connection.
        # A frame over HELPLINE_MAX_FRAME_BYTES gets an error frame from the app; four times that is cut off by the
        # protocol (close 1009), so no visitor makes the server buffer megabytes. X-Forwarded-For is believed only
        # from the configured proxies (uvicorn would otherwise believe it from 127.0.0.1, i.e. from anyone there).
        proxies, app = settings.proxies, create_app(settings)
        config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level,
                                ws_per_message_deflate=False, ws_max_size=4 * settings.max_frame_bytes,
                                proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None)
        DrainingServer(config, app.state.runtime, settings.shutdown_grace_seconds).run()
    return 0


@contextlib.contextmanager
def action_server_beside(args: argparse.Namespace, settings: Settings) -> Iterator[Settings]:
    """The ``--actions`` package's action server, running until the block ends (Ctrl-C and SIGTERM included);
    yields the settings with the bot pointed at it."""
    from bot.services.action_server import start_action_server

    # uvicorn stops gracefully on SIGTERM, then raises it again under the handler it found: the default one would
    # end this process before the action server (a process group of its own) is stopped.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        log = settings.data_dir / "logs" / "action-server.log"
        actions = start_action_server(args.actions, log, os.environ, port=args.actions_port)
        try:
            note(f"action server: {args.actions} on {actions.url} (log: {log})")
            yield settings.model_copy(update={"action_endpoint_url": actions.url})
        finally:
            actions.stop()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the widget, the customer socket and the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--actions", metavar="PACKAGE", default=None,
                       help="also run a rasa-sdk action server with this actions package (e.g. demo.actions), "
                            "importable from the current directory, and stop it with the server")
    serve.add_argument("--actions-port", type=int, default=5055, metavar="PORT",
                       help="the action server's port on 127.0.0.1 (default 5055)")
    serve.set_defaults(func=cmd_serve)

    for module in (setup, training, faq, transcripts, agents, customers, dataset, retrain, models, import_rasa):
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
