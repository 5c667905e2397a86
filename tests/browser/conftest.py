"""A real dashboard server and Debian's chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO

ARTIFACTS = REPO / ".artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail(
            "Debian's chromium is needed for browser tests: apt-get install -y chromium (.ci/run does)"
        )
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dashboard_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Starts `grumble dashboard` on a free port; yields its URL and the config path for seeding."""
    port = free_port()
    config = tmp_path / "grumble.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "g.db"}"\n'
        f'[dashboard]\nhost = "127.0.0.1"\nport = {port}\n'
        '[[watches]]\nname = "acme"\nkeywords = ["acme"]\n[watches.sources.demo]\n',
        encoding="utf-8",
    )
    env = {**os.environ, "GRUMBLE_CONFIG": str(config)}
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "dashboard"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("the dashboard did not start within 60 s")
    yield url, config
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def browser_page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield page
        browser.close()
