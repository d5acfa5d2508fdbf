"""The action endpoint of endpoints.yml: Rasa's options, ${VARIABLE}s, and the URL check."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.rasa.endpoints import DEFAULT_TIMEOUT_S, ActionEndpoint, InvalidEndpoint, load_action_endpoint
from bot.rasa.files import RasaFileError
from tests.bot.rasa.rasa_project import ENDPOINTS


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "endpoints.yml"
    path.write_text(text)
    return path


def test_every_option_with_variables_filled_in(tmp_path: Path) -> None:
    endpoint = load_action_endpoint(write(tmp_path, ENDPOINTS), {"ACTION_PASSWORD": "s3cret", "ACTION_TOKEN": "t0k"})
    assert endpoint == ActionEndpoint(url="http://localhost:5055/webhook", headers={"X-Team": "helpline"},
                                      basic_auth=("bot", "s3cret"), token="t0k", timeout_s=DEFAULT_TIMEOUT_S)


def test_a_variable_that_is_not_set_is_named(tmp_path: Path) -> None:
    with pytest.raises(RasaFileError, match=r"^endpoints.yml line 2: .*ACTION_PASSWORD, which are not set"):
        load_action_endpoint(write(tmp_path, ENDPOINTS), {"ACTION_TOKEN": "t0k"})


def test_a_url_from_the_environment_and_a_timeout(tmp_path: Path) -> None:
    path = write(tmp_path, "action_endpoint:\n  url: ${ACTIONS}/webhook\n  timeout: 2.5\n")
    endpoint = load_action_endpoint(path, {"ACTIONS": "https://actions.example.com"})
    assert endpoint is not None and endpoint.url == "https://actions.example.com/webhook"
    assert endpoint.timeout_s == 2.5 and endpoint.basic_auth is None and endpoint.token is None


@pytest.mark.parametrize("url", ["localhost:5055/webhook", "ftp://host/webhook", "http:///webhook", "webhook"])
def test_a_bad_url_is_an_error_at_its_line(tmp_path: Path, url: str) -> None:
    path = write(tmp_path, f"# the action server\naction_endpoint:\n  url: {url}\n")
    with pytest.raises(RasaFileError, match=r"^endpoints.yml line 3: action endpoint url .* is not an http\(s\) URL"):
        load_action_endpoint(path, {})
    with pytest.raises(InvalidEndpoint):
        ActionEndpoint(url=url)


def test_no_action_endpoint_is_none(tmp_path: Path) -> None:
    assert load_action_endpoint(write(tmp_path, "tracker_store:\n  type: redis\n"), {}) is None
