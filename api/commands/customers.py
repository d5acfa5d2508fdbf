"""`helpline customers erase|purge|erasures`: erase customers' conversations on request, run the retention pass
once (from cron, say), and read the audit record of erasures."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from api.commands import note, print_json
from bot.settings import Settings


def cmd_customers_erase(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.erasure import UnknownConversations, announce_erasures, erase_conversations

    try:
        report = erase_conversations(settings, args.conversation_ids, "cli")
    except UnknownConversations as exc:
        print(f"helpline: error: {exc}", file=sys.stderr)
        return 2
    for outcome in report.conversations:
        record = outcome.record
        counts = ", ".join(f"{count} {table}" for table, count in record.counts.items() if count)
        when = f"{record.erased_at:%Y-%m-%d %H:%M} UTC by {record.erased_by}"
        print(f"erased {record.conversation_id}: {counts}" if outcome.status == "erased"
              else f"already erased {record.conversation_id} ({when}): nothing left to remove")
    if report.erased_now and not announce_erasures(settings, report.erased_now):
        note("no HELPLINE_REDIS_URL: a widget still open on an erased conversation is closed at its next message")
    print_json(report.to_dict())
    return 0


def cmd_customers_purge(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.erasure import announce_erasures
    from bot.services.retention import purge_expired

    if not settings.retention_days and not settings.login_retention_days:
        note("retention is off: set HELPLINE_RETENTION_DAYS and/or HELPLINE_LOGIN_RETENTION_DAYS")
    report = purge_expired(settings, dry_run=args.dry_run)
    announce_erasures(settings, list(report.erased))
    print_json(report.to_dict())
    return 0


def cmd_customers_erasures(args: argparse.Namespace, settings: Settings) -> int:
    from bot.services.database import transcript_store
    from bot.store.erasure import erasures

    with transcript_store(settings) as store:
        records = erasures(store, args.limit)
    print_json({"erasures": [record.to_dict() for record in records]})
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-commands to the `helpline` parser."""
    customers = sub.add_parser("customers", help="customers' data: erasure and retention").add_subparsers(
        dest="customers_command", required=True
    )
    erase = customers.add_parser(
        "erase", help="erase conversations with everything hanging off them and their training-set rows; an "
        "unknown id erases nothing, one erased before is reported as such")
    erase.add_argument("conversation_ids", nargs="+", metavar="CONVERSATION_ID")
    erase.set_defaults(func=cmd_customers_erase)
    purge = customers.add_parser(
        "purge", help="run the retention pass once: HELPLINE_RETENTION_DAYS, HELPLINE_LOGIN_RETENTION_DAYS")
    purge.add_argument("--dry-run", action="store_true", help="count what would go, delete nothing")
    purge.set_defaults(func=cmd_customers_purge)
    listing = customers.add_parser("erasures", help="the audit record of erasures, newest first")
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(func=cmd_customers_erasures)
