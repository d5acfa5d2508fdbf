"""Sub-commands of ``helpline``, one module per area; each exposes ``register(subparsers)``.

A command parses its arguments, calls a workflow of ``bot.services`` and prints the result; the services are
imported when the command runs, so a command that loads no model does not pay for importing torch.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(obj: dict[str, Any]) -> None:
    """The one JSON object a command prints as its last line."""
    print(json.dumps(obj))


def note(message: str) -> None:
    """A word on standard error about something that takes a while (standard output stays parseable)."""
    print(message, file=sys.stderr)
