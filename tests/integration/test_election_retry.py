"""The scheduler's election retries an unreachable database under the one backoff rule
(monitor/backoff.py), not at every caller's tick (issue 24, item 19)."""

from __future__ import annotations

import logging
import re
import socket

import pytest

from monitor.queue.election import RECONNECT, Election


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_database_is_tried_again_only_after_the_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [1000.0]
    url = f"postgresql://grumble@127.0.0.1:{closed_port()}/grumble?connect_timeout=2"
    election = Election(url, "host:1", clock=lambda: now[0])
    caplog.set_level(logging.WARNING, logger="monitor.queue.election")

    assert not election.try_lead()
    [first] = [r.getMessage() for r in caplog.records]
    assert "cannot reach the database to elect a scheduler" in first and "trying again in" in first
    # Within the first wait (at least half of the 1 s base): no new connection is tried.
    now[0] += RECONNECT.base.total_seconds() / 2 - 0.01
    assert not election.try_lead()
    assert len(caplog.records) == 1
    # After the longest first wait, it tries again, and the next wait is longer.
    now[0] += RECONNECT.base.total_seconds()
    assert not election.try_lead()
    assert len(caplog.records) == 2
    second = float(re.search(r"trying again in ([\d.]+) s", caplog.records[1].getMessage())[1])  # type: ignore[index]
    assert RECONNECT.nominal(2).total_seconds() / 2 <= second <= RECONNECT.nominal(2).total_seconds()
