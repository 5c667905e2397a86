"""The server imports what the pages import before anyone opens one (dashboard/preload.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dashboard.preload import SCRIPTS, imported_modules


def test_the_modules_the_pages_import_are_found_in_their_import_lines(tmp_path: Path) -> None:
    assert {script.name for script in SCRIPTS} >= {"app.py", "inbox.py", "trends.py", "compare.py"}
    inbox = next(script for script in SCRIPTS if script.name == "inbox.py")
    found = imported_modules(inbox)
    # `from dashboard import context` is the module dashboard.context; `from x import name` is x.
    assert {"dashboard.context", "dashboard.inbox_list", "monitor.store.inbox", "streamlit"} <= set(found)
    assert "monitor.store.inbox.count" not in found and "__future__" not in found
    script = tmp_path / "page.py"
    script.write_text("import json\nfrom email import message\n\ndef later():\n    import csv\n")
    assert imported_modules(script) == ["json", "email", "email.message"]  # top level only


def test_preloading_also_compiles_the_emoji_pattern_page_icons_are_checked_against() -> None:
    # A fresh interpreter: in this one, other tests may have imported it already.
    code = (
        "import sys; from dashboard.preload import preload; preload(); "
        "print('streamlit.emojis' in sys.modules, 'monitor.sources.registry' in sys.modules)"
    )
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.split() == ["True", "True"]
