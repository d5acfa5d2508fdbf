"""A server whose model cannot load says so on /health and on the socket, instead of hanging."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
from websockets.sync.client import connect

from tests.servers import ROOT, free_port


def test_missing_model_is_a_clear_503_not_a_hang(tmp_path: Path) -> None:
    port = free_port()
    env = {"HELPLINE_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        body: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and body.get("status") != "error":
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                assert response.status_code == 503
                body = response.json()
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert body.get("status") == "error", body
        assert "helpline faq ingest" in body["detail"] or "helpline train" in body["detail"]
        with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as ws:
            frame = json.loads(ws.recv(timeout=10))
        assert frame["type"] == "error" and frame["code"] == "unavailable"
    finally:
        process.terminate()
        process.wait(timeout=15)
