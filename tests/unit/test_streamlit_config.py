"""The dashboard's Streamlit settings (dashboard/.streamlit/config.toml) apply wherever it is started from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from monitor.cli.service import dashboard_command
from monitor.config import load_config

# What `streamlit run SCRIPT` does before it starts the server (streamlit.web.cli._main_run): the
# script's path decides which script-level .streamlit/config.toml is read, then the options load.
READ_OPTIONS = """
import sys
from streamlit import config
from streamlit.web import bootstrap
config._main_script_path = sys.argv[1]
bootstrap.load_config_options(flag_options={})
print(*(config.get_option(name) for name in sys.argv[2:]))
"""
OPTIONS = ("browser.gatherUsageStats", "client.toolbarMode", "server.fileWatcherType")


def test_the_dashboard_sends_no_usage_statistics_shows_no_deploy_button_and_watches_no_files(
    tmp_path: Path,
) -> None:
    (tmp_path / "grumble.toml").write_text(
        'database_url = "sqlite:///g.db"\n[[watches]]\nname = "acme"\nkeywords = ["acme"]\n', encoding="utf-8"
    )
    command = dashboard_command(load_config(tmp_path / "grumble.toml"))
    script = Path(command[command.index("run") + 1])
    assert script.name == "server.py" and (script.parent / ".streamlit" / "config.toml").is_file()
    # Started from a folder of the user's own, with a project config there that says otherwise.
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "config.toml").write_text(
        '[browser]\ngatherUsageStats = true\n[client]\ntoolbarMode = "developer"\n'
        '[server]\nfileWatcherType = "auto"\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-c", READ_OPTIONS, str(script), *OPTIONS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # No watcher: it walked every loaded module at each visitor's first page run (bench/browser.py).
    assert result.stdout.split() == ["False", "viewer", "none"]
