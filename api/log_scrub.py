"""Nothing secret in the access log: query parameters that carry credentials are masked before a line is written.
And no client's mistake logged as the server's error.

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
            record.args = tuple(_scrubbed(a) for a in record.args)
        if isinstance(record.msg, str):
            record.msg = SECRET_PARAMS.sub(MASK, record.msg)
        return True


class ClientFaults(logging.Filter):
    """uvicorn logs a text frame that is not UTF-8 as an error with a traceback, then closes the socket with 1007
    as the protocol says: any client could fill the log with them. Logged as a warning, without the traceback."""

    MESSAGES = ("Invalid UTF-8 sequence received from client.",)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in self.MESSAGES and record.levelno > logging.WARNING:
            record.levelno, record.levelname, record.exc_info, record.exc_text = logging.WARNING, "WARNING", None, None
        return True


def _scrubbed(arg: object) -> object:
    """The argument, or its text with credentials masked (a URL object too, as httpx logs one)."""
    if isinstance(arg, int | float) or arg is None:
        return arg
    shown = arg if isinstance(arg, str) else str(arg)
    masked = SECRET_PARAMS.sub(MASK, shown)
    return arg if masked == shown else masked


def scrub_server_logs() -> None:
    """Put the scrubber on uvicorn's access and error loggers, and on httpx's, which logs every URL it calls
    (a Rasa action endpoint's ``?token=`` among them), and the client faults' filter on uvicorn's error logger,
    once."""
    for name in ("uvicorn.access", "uvicorn.error", "httpx"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretScrubber) for f in logger.filters):
            logger.addFilter(SecretScrubber())
    errors = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, ClientFaults) for f in errors.filters):
        errors.addFilter(ClientFaults())
