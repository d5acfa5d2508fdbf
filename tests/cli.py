"""Run the installed ``helpline`` console command as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HELPLINE = Path(sys.executable).with_name("helpline")


def helpline(*args: str, data_dir: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "HELPLINE_DATA_DIR": str(data_dir), **env}
    return subprocess.run(
        [str(HELPLINE), *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=timeout, check=False
    )


def last_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed
