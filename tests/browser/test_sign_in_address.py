"""The address failed sign-ins count against, on a real `grumble dashboard` server (a module of its own:
it locks the loopback address out for 15 minutes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.auth.login import MAX_FAILURES
from monitor.auth.users import hash_password
from tests.browser.conftest import dashboard_config, running_dashboard


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    config: Path = dashboard_config(tmp_path_factory.mktemp("address"))
    users = f'\n[[users]]\nname = "vera"\nrole = "viewer"\npassword_hash = "{hash_password("view-pass-1")}"\n'
    config.write_text(config.read_text(encoding="utf-8") + users, encoding="utf-8")
    with running_dashboard(config) as url:
        yield url


@pytest.mark.slow
def test_a_client_cannot_choose_its_address_with_x_forwarded_for(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        # Each guess under another name and another claimed address: only the real address is common.
        for attempt in range(MAX_FAILURES):
            wrong = client.post(
                "/grumble/login",
                data={"name": f"guess{attempt}", "password": "nope", "next": "/"},
                headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
            )
            assert wrong.status_code == 401
        # Uvicorn believed X-Forwarded-For from loopback: the address changed with every try and the
        # address limit never applied. Now the connection's address is what is counted.
        refused = client.post(
            "/grumble/login",
            data={"name": "vera", "password": "view-pass-1", "next": "/"},
            headers={"X-Forwarded-For": "198.51.100.77"},
        )
        assert refused.status_code == 429 and "from this address" in refused.text
