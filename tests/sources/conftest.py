"""Fixtures for the source tests: the loopback server, one adapter per source, and no real sleeping."""

from __future__ import annotations

import pytest
from prawcore.sessions import FiniteRetryStrategy

from tests.sources.fakes import ADAPTERS, Adapter
from tests.support.http_replay import ReplayServer


@pytest.fixture(autouse=True)
def no_prawcore_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """prawcore sleeps up to 6 s between its retries of a 5xx or a timeout; the retries themselves stay."""
    monkeypatch.setattr(FiniteRetryStrategy, "_sleep_seconds", lambda self: None)


@pytest.fixture(params=sorted(ADAPTERS))
def adapter(request: pytest.FixtureRequest, replay_server: ReplayServer) -> Adapter:
    return ADAPTERS[request.param](replay_server)
