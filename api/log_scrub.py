"""Nothing secret in the access log: query parameters that carry credentials are masked before a line is written.

Helpline itself no longer puts a token in any URL (a customer resumes in its first frame, an agent socket sends
its cookie or header), but an older widget, a script or a proxy might: what such a URL carries stays out of the
log all the same.
"""

from __future__ import annotations

import logging
import re

SECRET_PARAMS = re.compile(r"(?i)([?&](?:token|access_token|password|secret|api_key|key|auth)=)[^&\s]*")
MASK = r"\1***"


class SecretScrubber(logging.Filter):
    """Masks the value of credential-like query parameters in a log record's arguments and message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(SECRET_PARAMS.sub(MASK, a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = SECRET_PARAMS.sub(MASK, record.msg)
        return True


def scrub_server_logs() -> None:
    """Put the scrubber on uvicorn's access and error loggers (once)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretScrubber) for f in logger.filters):
            logger.addFilter(SecretScrubber())
