"""Reading a Rasa project's YAML as Rasa does, with every error naming the file and the line.

Rasa reads YAML 1.2 (ruamel), where ``yes``, ``no``, ``on`` and ``off`` are strings; PyYAML speaks 1.1 and
would turn a categorical slot's ``- yes`` into ``True``, so only ``true``/``false`` are booleans here.
Mappings come back as ``Located`` dicts that remember where they were written, so a later check (an action
a rule names but the domain lacks) can point at its line too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import yaml

from core.file_errors import FileFormatError

_BOOL = "tag:yaml.org,2002:bool"


class RasaFileError(FileFormatError):
    """A Rasa project file is wrong; ``str(e)`` reads ``data/nlu.yml line 7: …`` (the path inside the project)."""

    def __init__(self, shown: str, line: int, reason: str) -> None:
        super().__init__(Path(shown), line, reason)
        self.shown = shown
        self.args = (f"{shown} line {line}: {reason}",)  # the project-relative path, not only the file name


class Located(dict[str, Any]):
    """A YAML mapping that knows the file and line it was written on."""

    shown: str = ""
    line: int = 1

    def error(self, reason: str) -> RasaFileError:
        return RasaFileError(self.shown, self.line, reason)


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans and located mappings."""

    shown = ""
    yaml_implicit_resolvers = {  # noqa: RUF012 (PyYAML's own per-class table)
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_located(loader: _Loader, node: yaml.MappingNode) -> Any:
    data = Located()
    data.shown, data.line = loader.shown, node.start_mark.line + 1
    yield data  # first the empty mapping, as PyYAML does, so anchors that refer back to it work
    data.update(cast(dict[str, Any], loader.construct_mapping(node)))


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_located)


def shown_name(path: Path, root: Path) -> str:
    """How a file is named in messages: its path inside the project, else its name."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def read_yaml(path: Path, shown: str | None = None) -> Any:
    """The YAML document in ``path`` (None for an empty file); bad YAML is a ``RasaFileError`` at its line."""
    shown = shown or Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RasaFileError(shown, Path(path).read_bytes()[: exc.start].count(b"\n") + 1, "not valid UTF-8") from exc
    loader = _Loader(text)
    loader.shown = shown
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        raise RasaFileError(shown, mark.line + 1 if mark else 1, reason) from exc
    except yaml.YAMLError as exc:
        raise RasaFileError(shown, 1, str(exc)) from exc
    finally:
        loader.dispose()


def read_mapping(path: Path, shown: str) -> Located:
    """A YAML file whose top level must be a mapping (an empty file is an empty one)."""
    data = read_yaml(path, shown)
    if data is None:
        empty = Located()
        empty.shown = shown
        return empty
    if not isinstance(data, Located):
        raise RasaFileError(shown, 1, f"expected a mapping at the top level, got {_kind(data)}")
    return data


def where(value: Any, parent: Located) -> Located:
    """``value`` when it is located, else ``parent``: the nearest place an error can point at."""
    return value if isinstance(value, Located) else parent


def plain(value: Any) -> Any:
    """The same data as plain dicts and lists (what YAML and JSON writers and callers expect)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else type(value).__name__
