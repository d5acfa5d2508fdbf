"""Write one benchmark's figures into its own section of ``benchmarks/RESULTS.md``."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = "# Benchmark results\n\nEach section is rewritten by the benchmark named in it; see `benchmarks/README.md`.\n"


def machine() -> str:
    """Describe the machine a figure was measured on (CPU model and cores, GPU if one is used)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    desc = f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout.strip()
        if out:
            desc += f", GPU: {out.splitlines()[0]}"
    except (OSError, subprocess.SubprocessError):
        pass
    return desc


def record(section: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section titled ``section`` with ``body``, stamped with date and machine."""
    text = path.read_text() if path.exists() else HEADER
    stamp = f"_{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}_\n\n"
    block = f"<!-- begin {section} -->\n## {section}\n\n{stamp}{body.strip()}\n<!-- end {section} -->\n"
    pattern = re.compile(rf"<!-- begin {re.escape(section)} -->.*?<!-- end {re.escape(section)} -->\n", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
    path.write_text(text)
