"""The inbox page's first render through Streamlit's AppTest, in a process of its own for each layout.

`python -m bench.render --database URL --layout cards` prints one JSON line (bench/inbox.py runs it for
each layout and prints the figures side by side). In order, in one fresh process:

- `AppTest floor`: a one-line Streamlit script through AppTest (after one run that warms Streamlit
  itself): what AppTest costs each new session (it scans the installed packages for components every
  time), which no page can go below;
- `first session`: the inbox for the first visitor after a restart: the process has done what
  `grumble dashboard` does at start (dashboard/preload.py imports the pages' modules) and nothing more,
  so the database connection, its first queries and Streamlit's caches are all cold;
- `next session`: a new session (another visitor) in the same process: the steady state.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

APP = Path(__file__).parent.parent / "dashboard" / "app.py"
EMPTY = 'import streamlit as st\nst.markdown("Inbox")\n'


def _run_ms(script: Path, layout: str | None = None) -> float:
    from streamlit.testing.v1 import AppTest

    from monitor.surface.inbox_view import PARAMS

    app = AppTest.from_file(str(script), default_timeout=60)
    if layout and layout != "cards":
        app.query_params[PARAMS["layout"]] = layout
    started = time.perf_counter()
    app.run()
    elapsed = (time.perf_counter() - started) * 1000
    if app.exception:
        raise SystemExit(f"the page failed to render: {app.exception[0].value}")
    return elapsed


def measure(database_url: str, layout: str) -> dict[str, float]:
    os.environ["GRUMBLE_DATABASE_URL"] = database_url
    from streamlit import config

    from dashboard.preload import preload

    # As `grumble dashboard` serves it (dashboard/.streamlit/config.toml): no usage statistics, whose
    # bookkeeping wraps every Streamlit command.
    config.set_option("browser.gatherUsageStats", False)

    with tempfile.TemporaryDirectory(prefix="grumble-bench-") as folder:
        empty = Path(folder) / "empty.py"
        empty.write_text(EMPTY, encoding="utf-8")
        _run_ms(empty)  # Streamlit's own first run in a process: not AppTest's cost per session
        floor = _run_ms(empty)
        preload()
        first = _run_ms(APP, layout)
        following = _run_ms(APP, layout)
    return {"AppTest floor": floor, "first session": first, "next session": following}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", required=True)
    parser.add_argument("--layout", default="cards")
    args = parser.parse_args()
    print(json.dumps(measure(args.database, args.layout)))


if __name__ == "__main__":
    main()
