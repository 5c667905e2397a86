"""The observer over real HTTP on loopback: Prometheus text at /metrics, the health at /healthz (200,
503 with the reason, 503 when the check itself raises), 404 elsewhere, and a port that is taken."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from monitor.errors import ConfigError
from monitor.observe.health import Health, database_problem
from monitor.observe.metrics import record_job
from monitor.observe.server import Observer, start_observer
from monitor.store.engine import open_engine
from tests.observe.conftest import sample


class Switch:
    """A health check a test turns: healthy, unhealthy with a reason, or raising."""

    def __init__(self) -> None:
        self.problem: str | None = None
        self.raises: Exception | None = None

    def __call__(self) -> Health:
        if self.raises is not None:
            raise self.raises
        return Health.of("worker", {"database": None, "loop": self.problem})


class Fixed:
    """A custom collector with one gauge, like the QueueCollector without a database."""

    def __init__(self, value: float) -> None:
        self.value = value

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("grumble_test_fixed", "a fixed value for a test", value=self.value)


@pytest.fixture
def switch() -> Switch:
    return Switch()


@pytest.fixture
def observer(switch: Switch) -> Iterator[Observer]:
    with start_observer("127.0.0.1", 0, switch, collectors=[Fixed(7)]) as running:
        yield running


def scrape(observer: Observer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{observer.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def test_metrics_are_served_as_prometheus_text_with_the_added_collectors(observer: Observer) -> None:
    with record_job("score"):
        pass
    samples = scrape(observer)
    key = ("grumble_jobs_total", (("kind", "score"), ("outcome", "succeeded")))
    assert samples[key] == sample("grumble_jobs_total", kind="score", outcome="succeeded") >= 1
    assert samples[("grumble_test_fixed", ())] == 7
    # prometheus_client's own process metrics come along with Grumble's.
    assert any(name.startswith("python_info") for name, _ in samples)
    text = httpx.get(f"{observer.url}/metrics").text
    assert "# TYPE grumble_jobs_total counter" in text
    assert "# HELP grumble_score_delay_seconds" in text


def test_two_observers_in_one_process_serve_their_own_collectors(observer: Observer, switch: Switch) -> None:
    with start_observer("127.0.0.1", 0, switch, collectors=[Fixed(8)]) as other:
        assert other.port != observer.port
        assert scrape(other)[("grumble_test_fixed", ())] == 8
        assert scrape(observer)[("grumble_test_fixed", ())] == 7


def test_healthz_is_200_when_healthy_and_503_with_the_reason_when_not(
    observer: Observer, switch: Switch
) -> None:
    healthy = httpx.get(f"{observer.url}/healthz")
    assert healthy.status_code == 200
    assert healthy.headers["content-type"] == "application/json"
    assert healthy.json() == {"ok": True, "role": "worker", "details": {"database": "ok", "loop": "ok"}}
    switch.problem = "no heartbeat for 90 s"
    failing = httpx.get(f"{observer.url}/healthz")
    assert failing.status_code == 503
    assert failing.json()["details"]["loop"] == "no heartbeat for 90 s"


def test_a_health_check_that_raises_is_a_503_with_its_message_and_the_server_lives_on(
    observer: Observer, switch: Switch
) -> None:
    switch.raises = RuntimeError("lock table missing")
    failing = httpx.get(f"{observer.url}/healthz")
    assert failing.status_code == 503
    assert failing.json() == {
        "ok": False,
        "details": {"error": "health check failed: RuntimeError: lock table missing"},
    }
    switch.raises = None
    assert httpx.get(f"{observer.url}/healthz").status_code == 200


def test_other_paths_are_404(observer: Observer) -> None:
    for path in ("/", "/metricsx", "/healthz/extra", "/favicon.ico"):
        assert httpx.get(f"{observer.url}{path}").status_code == 404, path
    assert httpx.post(f"{observer.url}/healthz").status_code == 405


def test_a_port_in_use_is_a_config_error_that_says_how_to_choose_another(switch: Switch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"127\.0\.0\.1:{port}: .*--metrics-port"):
            start_observer("127.0.0.1", port, switch)


def test_closing_frees_the_port(switch: Switch) -> None:
    running = start_observer("127.0.0.1", 0, switch)
    port = running.port
    running.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz")
    start_observer("127.0.0.1", port, switch).close()


def test_the_database_check_names_the_problem_without_the_password(sqlite_engine: Engine) -> None:
    assert database_problem(sqlite_engine) is None
    unreachable = open_engine("postgresql://grumble:s3cret@127.0.0.1:1/grumble?connect_timeout=2")
    problem = database_problem(unreachable)
    assert problem is not None and problem.startswith("database unreachable: ")
    assert "s3cret" not in problem
