"""The server imports what the pages import before anyone opens one (dashboard/preload.py)."""

from __future__ import annotations

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
