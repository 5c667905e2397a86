"""Import what the pages import while the server starts, so the first visitor's page does not.

Streamlit runs app.py and the page scripts afresh for each visitor, and their first run imports the
dashboard's modules, the stores, pandas and altair: about a second on a small machine, which the first
person to open the inbox after a restart waited for. The list is read from the scripts' own import
lines, so a page that imports something new is covered without a second list to keep.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

SCRIPTS = [Path(__file__).with_name("app.py"), *sorted((Path(__file__).parent / "views").glob("*.py"))]
# Imported inside functions, so not in the scripts' import lines: every source's client (config loading,
# monitor/config/sources.py), and the pattern of every emoji that st.set_page_config and st.Page check
# their icons against (a third of a second to compile, in the first visitor's page run otherwise).
ALSO = ("monitor.sources.registry", "streamlit.emojis")


def imported_modules(script: Path) -> list[str]:
    """The modules a script imports at its top level: `import x` and `from x import y` give x, and
    x.y when x is a package and y one of its modules (`from dashboard import context`)."""
    names: list[str] = []
    for node in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            package = importlib.import_module(node.module)
            names.append(node.module)
            if hasattr(package, "__path__"):
                names += [
                    f"{node.module}.{alias.name}"
                    for alias in node.names
                    if importlib.util.find_spec(f"{node.module}.{alias.name}") is not None
                ]
    return names


def preload() -> list[str]:
    """Imports every module the scripts import; returns their names."""
    modules = [*dict.fromkeys(name for script in SCRIPTS for name in imported_modules(script)), *ALSO]
    for name in modules:
        importlib.import_module(name)
    return modules
