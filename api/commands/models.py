"""`helpline models`: being built for the learning-loop issue; registers nothing yet."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this module's sub-command to the `helpline` parser."""
