"""One real rasa-sdk action server for the Rasa tests, running the demo's actions and some that misbehave."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import ActionServerProcess, start_action_server, stop_action_server


@pytest.fixture(scope="session")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServerProcess]:
    server = start_action_server("tests.bot.rasa.actions", tmp_path_factory.mktemp("actions") / "actions.log")
    yield server
    stop_action_server(server)
