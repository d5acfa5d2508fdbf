"""The model registry: one folder per trained version and a CURRENT file naming the one to serve."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from training.model import ModelNotFound

CURRENT_FILE = "CURRENT"


class ModelRegistry:
    """Versions live in ``root/<version>/``; ``root/CURRENT`` holds the served version's name."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def new_version_path(self) -> Path:
        """A fresh, not yet created version folder: ``root/<UTC yyyymmdd-HHMMSS>-<4 hex>``."""
        while True:
            path = self.root / f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
            if not path.exists():
                return path

    def versions(self) -> list[str]:
        """Complete versions (folders with a config.json), oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(
            entry.name for entry in self.root.iterdir()
            if entry.is_dir() and not entry.name.startswith(".") and (entry / "config.json").is_file()
        )

    def current(self) -> Path | None:
        """The served version's folder, or None when nothing was promoted yet."""
        pointer = self.root / CURRENT_FILE
        if not pointer.is_file():
            return None
        version = pointer.read_text().strip()
        path = self.root / version
        if not version or not (path / "config.json").is_file():
            raise ModelNotFound.at(path, f"{pointer} names a version that is not in the registry")
        return path

    def promote(self, version: str) -> None:
        """Serve ``version`` from now on (atomic replace of CURRENT)."""
        if version not in self.versions():
            raise ModelNotFound.at(self.root / version, "unknown version")
        staging = self.root / f".{CURRENT_FILE}.tmp-{secrets.token_hex(4)}"
        staging.write_text(version + "\n")
        os.replace(staging, self.root / CURRENT_FILE)
