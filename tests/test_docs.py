"""The README documents every setting, every CLI command and every error code."""

from __future__ import annotations

import re
from pathlib import Path

from api.cli import build_parser
from bot.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        variable = field.alias or f"HELPLINE_{name.upper()}"
        assert variable in README, f"{variable} is missing from README.md"


def test_every_command_is_documented() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"helpline {name}" in README, f"`helpline {name}` is missing from README.md"


def test_every_error_code_is_documented() -> None:
    source = "".join(p.read_text() for p in (Path(__file__).resolve().parents[1] / "api").rglob("*.py"))
    codes = set(re.findall(r'(?:FrameError|error_frame)\(\s*"([a-z_]+)"', source))
    assert codes, "no error codes found"
    for code in codes:
        assert f"`{code}`" in README, f"error code {code} is missing from README.md"


def test_quickstart_is_exactly_two_commands() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split()[0:2] for line in quickstart.strip().splitlines()] == [["make", "run"], ["make", "test"]]
