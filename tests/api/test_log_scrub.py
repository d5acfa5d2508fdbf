"""Nothing secret in the logs: a credential in a URL that a client or library logs is masked."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from api.log_scrub import scrub_server_logs


class Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/webhook"
    server.shutdown()
    server.server_close()


def test_an_action_endpoint_token_never_reaches_the_log(endpoint: str, caplog: pytest.LogCaptureFixture) -> None:
    scrub_server_logs()
    with caplog.at_level(logging.INFO, logger="httpx"):
        httpx.post(f"{endpoint}?token=s3cret-t0ken&tenant=a", json={})
    assert "/webhook?token=***&tenant=a" in caplog.text  # the call is still logged, its token masked
    assert "s3cret-t0ken" not in caplog.text


def test_a_text_frame_that_is_not_utf8_is_the_clients_fault_not_a_server_error(
        caplog: pytest.LogCaptureFixture) -> None:
    scrub_server_logs()
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        try:
            b"\xff".decode()
        except UnicodeDecodeError:  # as uvicorn logs it, before it closes the socket with 1007
            logging.getLogger("uvicorn.error").exception("Invalid UTF-8 sequence received from client.")
        logging.getLogger("uvicorn.error").error("Exception in ASGI application")
    faults = [(record.levelname, record.exc_info) for record in caplog.records]
    assert faults == [("WARNING", None), ("ERROR", None)]  # the server's own errors stay errors
