"""The inbox in a real headless chromium: how long from opening the page until its first mention shows.

`python -m bench.browser --database URL [--repeat 5]` (bench/inbox.py calls it after its queries). For
each layout (cards, compact) a fresh `grumble dashboard` starts on the store, and the inbox is opened:

- once right after the start (the server's first page run; the browser already holds Streamlit's files);
- `--repeat` times as a new visitor: a new browser profile, so Streamlit's JavaScript is fetched and
  compiled again;
- `--repeat` times as a returning one: a new tab (a new session) of a browser that has the files.

The time is the page's own clock (performance.now(), from navigation start) at the first animation frame
showing a mention's line: a compact line or a card's headline, both of which say "· priority". The same
is measured for a bare Streamlit page of one such line (its own server): what Streamlit itself takes in
this browser on this machine, which no change to the inbox can go below.

Needs Debian's chromium (apt-get install chromium) and Playwright's Python package (no browser download).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import make_url

from monitor.surface.inbox_view import LAYOUTS, PARAMS

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

VIEWPORT: ViewportSize = {"width": 1440, "height": 900}
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
# Watches every frame from the page's start; records the frame in which a mention's line is first in the
# page: a compact line or a card's headline, both of which say "· priority". It reads the page's text only
# (textContent lays nothing out), so watching costs the page next to nothing.
FIRST_ROW_WATCH = """
(() => {
  const look = () => {
    if (document.body && document.body.textContent.includes('· priority ')) {
      window.__firstRowMs = performance.now();
      return;
    }
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})();
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def dashboard(database_url: str, port: int) -> Iterator[str]:
    """`grumble dashboard` on `database_url` (no users: nobody signs in), until the block ends."""
    database_url = _absolute(database_url)  # the server runs in a folder of its own
    with tempfile.TemporaryDirectory(prefix="grumble-bench-") as folder:
        config = Path(folder) / "grumble.toml"
        config.write_text(
            f'database_url = "{database_url}"\n[dashboard]\nhost = "127.0.0.1"\nport = {port}\n'
            '[[watches]]\nname = "acme"\nkeywords = ["acme"]\n',
            encoding="utf-8",
        )
        command = [sys.executable, "-m", "monitor.cli", "dashboard"]
        with _serving(command, folder, port, {**os.environ, "GRUMBLE_CONFIG": str(config)}) as url:
            yield url


@contextmanager
def _serving(command: list[str], folder: str, port: int, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run a server until the block ends; its URL once it answers its health check."""
    process = subprocess.Popen(
        command, env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _absolute(database_url: str) -> str:
    url = make_url(database_url)
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    return url.render_as_string(hide_password=False)


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"grumble dashboard exited with status {process.returncode}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("grumble dashboard did not answer its health check within 60 s")


def first_row_ms(context: Any, url: str) -> float:
    """Open `url` in a new tab of `context` (a new Streamlit session); the page's clock when the first
    mention's line showed."""
    page = context.new_page()
    try:
        page.add_init_script(FIRST_ROW_WATCH)
        page.goto(url, wait_until="commit")
        page.wait_for_function("() => window.__firstRowMs !== undefined", timeout=120_000)
        return float(page.evaluate("window.__firstRowMs"))
    finally:
        page.close()


def new_visitor_ms(browser: Any, url: str) -> float:
    """`first_row_ms` in a browser profile of its own: nothing cached."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        return first_row_ms(context, url)
    finally:
        context.close()


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise SystemExit("Debian's chromium is needed: apt-get install -y chromium")
    return found


BARE_PAGE = 'import streamlit as st\nst.title("Inbox")\nst.markdown("acme · priority 3.2")\n'


@contextmanager
def bare_streamlit(port: int) -> Iterator[str]:
    """A Streamlit server whose page is one title and one line: the floor."""
    with tempfile.TemporaryDirectory(prefix="grumble-bench-") as folder:
        script = Path(folder) / "bare.py"
        script.write_text(BARE_PAGE, encoding="utf-8")
        flags = [
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ]
        with _serving([sys.executable, "-m", "streamlit", "run", str(script), *flags], folder, port) as url:
            yield url


@dataclass
class Timings:
    first_after_start: float
    new_visitor: list[float]
    returning: list[float]


def measure(database_url: str, repeat: int) -> dict[str, Timings]:
    """The bare page and each layout, each on a server of its own, all running at once; the opens take
    turns (bare, cards, compact, then again), so a busy moment on the machine slows them alike."""
    from playwright.sync_api import sync_playwright

    with ExitStack() as servers, sync_playwright() as playwright:
        urls = {"bare Streamlit": servers.enter_context(bare_streamlit(_free_port()))}
        for layout in LAYOUTS:
            url = servers.enter_context(dashboard(database_url, _free_port()))
            urls[layout] = f"{url}/" if layout == "cards" else f"{url}/?{PARAMS['layout']}={layout}"
        browser = playwright.chromium.launch(executable_path=chromium(), headless=True, args=FLAGS)
        results = {name: Timings(new_visitor_ms(browser, url), [], []) for name, url in urls.items()}
        returning = browser.new_context(viewport=VIEWPORT)
        for url in urls.values():
            first_row_ms(returning, url)  # Streamlit's files into the returning visitor's cache
        for _ in range(repeat):
            for name, url in urls.items():
                results[name].new_visitor.append(new_visitor_ms(browser, url))
                results[name].returning.append(first_row_ms(returning, url))
        browser.close()
    return results


def report(results: dict[str, Timings]) -> None:
    names = list(results)
    print(
        f"\n{'first mention line in chromium, ms from navigation':<52}" + "".join(f"{n:>16}" for n in names)
    )
    rows = [
        (
            "first open after the server started (new visitor)",
            [t.first_after_start for t in results.values()],
        ),
        (
            f"new visitor, median of {len(results[names[0]].new_visitor)}",
            [statistics.median(t.new_visitor) for t in results.values()],
        ),
        (
            f"returning visitor (new tab), median of {len(results[names[0]].returning)}",
            [statistics.median(t.returning) for t in results.values()],
        ),
    ]
    for label, values in rows:
        print(f"{label:<52}" + "".join(f"{value:>16.0f}" for value in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="sqlite:///bench-inbox.db")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    report(measure(args.database, args.repeat))


if __name__ == "__main__":
    main()
