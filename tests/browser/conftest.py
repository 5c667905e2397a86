"""A real dashboard server and Debian's chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.config import load_config
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


@contextmanager
def running_dashboard(config: Path) -> Iterator[str]:
    """`grumble dashboard` for `config` (its [dashboard] port), until the block ends; yields its URL."""
    settings = load_config(config, environ={})
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "dashboard"],
        env={**os.environ, "GRUMBLE_CONFIG": str(config)},
        cwd=config.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://{settings.dashboard.host}:{settings.dashboard.port}"
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
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def dashboard_config(folder: Path) -> Path:
    """A config for a dashboard on a free port over a store of its own in `folder`."""
    config = folder / "grumble.toml"
    config.write_text(
        f'database_url = "sqlite:///{folder / "g.db"}"\n'
        f'[dashboard]\nhost = "127.0.0.1"\nport = {free_port()}\n'
        '[[watches]]\nname = "acme"\nkeywords = ["acme"]\n[watches.sources.demo]\n',
        encoding="utf-8",
    )
    return config


@pytest.fixture
def dashboard_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The dashboard on a store of its own; yields its URL and the config path for seeding."""
    config = dashboard_config(tmp_path)
    with running_dashboard(config) as url:
        yield url, config


@pytest.fixture
def browser_page(browser: Any) -> Any:
    """One page on a chromium of its own, for tests that play one person."""
    return browser.new_page(viewport={"width": 1400, "height": 1000})


@pytest.fixture
def browser() -> Iterator[Any]:
    """A chromium of its own, for tests that play several people (a context each: see `sign_in`)."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


def sign_in(browser: Any, url: str, name: str, password: str, target: str, heading: str, timeout: int) -> Any:
    """A browser context of its own (its own cookies: another person), signed in and on `target`, whose
    `heading` has shown."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(f"{url}/grumble/login?next={target}")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.get_by_role("heading", name=heading).wait_for(timeout=timeout)
    return page
