"""`[api]`: each token's rate and where `grumble api` listens, with defaults, and a wrong value named."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.config.api import ApiSettings
from monitor.errors import ConfigError


def test_the_api_section_has_defaults_and_takes_its_three_keys(tmp_path: Path) -> None:
    path = tmp_path / "grumble.toml"
    path.write_text("", encoding="utf-8")
    assert load_config(path, environ={}).api == ApiSettings(
        requests_per_minute=120, host="localhost", port=8502
    )
    path.write_text('[api]\nrequests_per_minute = 600\nhost = "0.0.0.0"\nport = 9000\n', encoding="utf-8")
    assert load_config(path, environ={}).api == ApiSettings(600, "0.0.0.0", 9000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("requests_per_minute = 0", r"api\.requests_per_minute.*of at least 1"),
        ('port = "http"', r"api\.port.*a whole number"),
        ("rate = 5", r"rate"),
    ],
)
def test_a_wrong_api_value_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "grumble.toml"
    path.write_text(f"[api]\n{text}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path, environ={})
