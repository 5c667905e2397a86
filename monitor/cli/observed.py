"""`--metrics-port`: serve /metrics and /healthz beside a long-running command, for as long as it runs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from prometheus_client.registry import Collector
from sqlalchemy import Engine

from monitor.cli.logs import package_version
from monitor.config import Config
from monitor.observe.health import Health, database_problem
from monitor.observe.metrics import set_role
from monitor.observe.queue import QueueCollector
from monitor.observe.server import start_observer

log = logging.getLogger("grumble")

Checks = Callable[[], Mapping[str, str | None]]


@contextmanager
def observed(
    config: Config,
    port_option: int | None,
    engine: Engine,
    role: Callable[[], str],
    checks: Checks,
    *,
    queue_metrics: bool,
) -> Iterator[None]:
    """Serve while the block runs, when a port is given (option, else `[metrics] port`). `role` and
    `checks` are asked at each /healthz; the queue's depth is exported by the scheduler only, since
    every process would report the same figures."""
    port = port_option if port_option is not None else config.metrics.port
    if port is None:
        yield
        return
    set_role(role(), package_version())
    collectors: list[Collector] = (
        [QueueCollector(engine, config.queue.stalled_after_seconds)] if queue_metrics else []
    )
    if queue_metrics:  # the streams' rows too, read at scrape time by the scheduler's process
        from monitor.streams.health import StreamCollector

        collectors.append(StreamCollector(engine))

    def health() -> Health:
        return Health.of(role(), {"database": database_problem(engine), **checks()})

    with start_observer(config.metrics.host, port, health, collectors=collectors) as observer:
        log.info("metrics at %s/metrics, health at %s/healthz", observer.url, observer.url)
        yield
