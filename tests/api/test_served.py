"""The API as people run it: under /api/v1 of `grumble dashboard` (past the sign-in gate, which leaves
the API to its tokens) and alone as `grumble api`, each a real server process on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from monitor.auth.users import hash_password
from monitor.store.api_tokens import create_token
from monitor.store.engine import connect
from tests.browser.conftest import dashboard_config, free_port, running_dashboard

pytestmark = pytest.mark.slow


def _token(config: Path) -> str:
    database = config.read_text(encoding="utf-8").split('"')[1]
    engine = connect(database)
    try:
        return create_token(engine, "served-bot", "viewer")
    finally:
        engine.dispose()


def test_the_dashboard_serves_the_api_to_tokens_not_to_the_sign_in_gate(tmp_path: Path) -> None:
    config = dashboard_config(tmp_path)
    with config.open("a", encoding="utf-8") as file:  # users configured: the gate is on
        file.write(
            f'[[users]]\nname = "dana"\nrole = "admin"\npassword_hash = "{hash_password("pw-dana-1")}"\n'
        )
    token = _token(config)
    with running_dashboard(config) as url:
        page = httpx.get(f"{url}/", follow_redirects=False)
        assert page.status_code == 303 and "/grumble/login" in page.headers["location"]
        anonymous = httpx.get(f"{url}/api/v1/mentions")
        assert (
            anonymous.status_code == 401 and anonymous.json()["type"] == "urn:grumble:problem:unauthenticated"
        )
        listed = httpx.get(f"{url}/api/v1/watches", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200 and [w["name"] for w in listed.json()] == ["acme"]
        assert httpx.get(f"{url}/api/v1/openapi.json").json()["info"]["title"] == "Grumble API"


def test_grumble_api_serves_it_alone(tmp_path: Path) -> None:
    config = dashboard_config(tmp_path)
    token = _token(config)
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor.cli",
            "-c",
            str(config),
            "api",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"{url}/mentions", headers={"Authorization": f"Bearer {token}"}, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("`grumble api` did not start within 30 s")
                time.sleep(0.1)
        assert answer.status_code == 200 and answer.json() == {"items": [], "next_cursor": None}
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert f"API: http://127.0.0.1:{port}/api/v1/ (documentation: /api/v1/docs)" in output
