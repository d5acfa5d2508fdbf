"""Which personal data is masked where, from the settings: at log time, and in training sets and exports."""

from __future__ import annotations

from bot.settings import Settings
from training.redaction import KINDS, Redactor


def log_redactor(settings: Settings) -> Redactor:
    """What is masked in customer messages before they are stored (``HELPLINE_REDACT_LOG`` + patterns)."""
    return Redactor(settings.redact_log_kinds, settings.redact_patterns)


def training_redactor(settings: Settings) -> Redactor:
    """Every kind of personal data plus the configured patterns: what training sets and exports mask."""
    return Redactor(KINDS, settings.redact_patterns)
