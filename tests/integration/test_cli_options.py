"""The global options: `grumble --version` and `--log-format json`."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.cli.logs import JsonFormatter
from monitor.mention import utcnow
from monitor.store.engine import connect
from tests.alerts.conftest import Spec, add_mentions, free_port, smtp_toml
from tests.conftest import REPO


def test_version_prints_the_installed_packages_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"grumble {version('grumble')}\n"


def test_a_json_log_line_has_time_level_logger_message_and_the_exception() -> None:
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        record = logging.getLogger("monitor.x").makeRecord(
            "monitor.x", logging.ERROR, __file__, 1, "failed %s", ("twice",), sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "monitor.x" and entry["message"] == "failed twice"
    assert datetime.fromisoformat(entry["time"]).utcoffset() is not None
    assert entry["exception"].startswith("Traceback") and "ValueError: bad\nthing" in entry["exception"]
    quiet = logging.LogRecord("monitor.y", logging.INFO, __file__, 1, "fine", None, None)
    assert "exception" not in json.loads(JsonFormatter().format(quiet))


def test_log_format_json_writes_json_lines_on_stderr(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'g.db'}"
    engine = connect(database_url)
    add_mentions(engine, [Spec(1)], now=utcnow())
    engine.dispose()
    config = tmp_path / "grumble.toml"
    config.write_text(
        f"""
database_url = "{database_url}"
[[watches]]
name = "acme"
{smtp_toml(free_port())}[[digests]]
name = "support"
recipients = ["support@example.com"]
""",
        encoding="utf-8",
    )
    command = [
        sys.executable,
        "-m",
        "monitor.cli",
        "--log-format",
        "json",
        "-c",
        str(config),
        "digest",
        "--send",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1  # the mail server is down: the digest is kept for a retry
    lines = done.stderr.splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    [warning] = [r for r in records if r["logger"] == "monitor.surface.digest_delivery"]
    assert warning["level"] == "WARNING" and "not sent to 1 of 1 recipients" in warning["message"]
    assert set(warning) == {"time", "level", "logger", "message"}
    # The command's own one-line error stays plain text for people.
    assert any(line.startswith("grumble: error: digest 'support'") for line in lines)
