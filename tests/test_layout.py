"""The architecture the README describes, checked: imports run one way, modules stay small, and only the
settings class and the entry points read the environment."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "bot", "retrieval", "training", "core")
# what each package may import of the others: api/ -> bot/ -> retrieval/, training/ -> core/
MAY_IMPORT = {
    "api": {"api", "bot", "retrieval", "training", "core"},
    "bot": {"bot", "retrieval", "training", "core"},
    "retrieval": {"retrieval", "core"},
    "training": {"training", "core"},
    "core": {"core"},
}
MAX_LINES = 300
ENVIRONMENT_READERS = {"bot/settings.py", "api/cli.py"}  # the settings class and the `helpline` entry point


def product_modules() -> list[Path]:
    return sorted(
        path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("path", product_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way(path: Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    wrong = imported_packages(path) - MAY_IMPORT[package]
    assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}, against api/ -> bot/ -> retrieval/, training/"


def test_no_product_module_is_over_the_size_limit() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in product_modules()}
    long = {name: lines for name, lines in sizes.items() if lines > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_only_the_settings_and_entry_points_read_the_environment() -> None:
    readers = {str(p.relative_to(ROOT)) for p in product_modules() if "os.environ" in p.read_text()}
    assert readers <= ENVIRONMENT_READERS, f"environment read outside Settings: {sorted(readers - ENVIRONMENT_READERS)}"
