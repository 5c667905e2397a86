"""One small HTTP server per process, in a daemon thread: `/metrics` for Prometheus, `/healthz` for
whatever restarts the process (systemd, Kubernetes, a load balancer), 404 for anything else.

The standard library's WSGI server with a thread per request (so a slow health check never holds up
a scrape) and prometheus_client's WSGI app for the exposition; no web framework.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import REGISTRY, CollectorRegistry, make_wsgi_app
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from monitor.errors import ConfigError
from monitor.observe.health import Health

log = logging.getLogger(__name__)

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"


@dataclass
class Observer:
    """A running server: `port` is the one it listens on (the free one picked for port 0)."""

    host: str
    port: int
    _server: WSGIServer
    _thread: threading.Thread

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        """Stop serving and free the port; requests in flight finish on their own daemon threads."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Observer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def start_observer(
    host: str,
    port: int,
    health: Callable[[], Health],
    *,
    collectors: Sequence[Collector] = (),
    registry: CollectorRegistry = REGISTRY,
) -> Observer:
    """Serve `registry` (Grumble's metrics and the process's) plus `collectors` (e.g. a QueueCollector)
    on host:port, and `health()` at /healthz. Port 0 picks a free port (tests). Raises ConfigError
    when the address cannot be used (a port taken, a host that is not this machine's)."""
    served = CollectorRegistry(support_collectors_without_names=True)
    served.register(_Forward(registry))
    for collector in collectors:
        served.register(collector)
    app = observer_app(served, health)
    try:
        server = make_server(
            host, port, app, server_class=_server_class(host, port), handler_class=_QuietHandler
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}; "
            "choose another port (--metrics-port, or [metrics] port in grumble.toml) or host"
        ) from None
    # A short poll: close() (at SIGTERM) waits for the loop to notice, at most this long.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="observer", daemon=True
    )
    thread.start()
    observer = Observer(host, server.server_address[1], server, thread)
    log.info("metrics at %s/metrics, health at %s/healthz", observer.url, observer.url)
    return observer


def observer_app(registry: CollectorRegistry, health: Callable[[], Health]) -> WSGIApplication:
    metrics = make_wsgi_app(registry)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == "/metrics":
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        if path == "/healthz":
            if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
                start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Type", TEXT)])
                return [b"use GET\n"]
            return _health(health, start_response)
        start_response("404 Not Found", [("Content-Type", TEXT)])
        return [b"not found: Grumble serves /metrics and /healthz here\n"]

    return app


def _health(health: Callable[[], Health], start_response: StartResponse) -> list[bytes]:
    """200 with the details when healthy, 503 with them (the reason) when not; a check that raises is
    unhealthy with its message, never an error page."""
    try:
        answer: dict[str, Any] = health().as_json()
    except Exception as exc:
        # A probe every few seconds: one line each, not a traceback each.
        log.warning("health check raised %s: %s", type(exc).__name__, exc)
        answer = {"ok": False, "details": {"error": f"health check failed: {type(exc).__name__}: {exc}"}}
    status = "200 OK" if answer["ok"] else "503 Service Unavailable"
    start_response(status, [("Content-Type", JSON), ("Cache-Control", "no-store")])
    return [json.dumps(answer, default=str).encode() + b"\n"]


class _Forward:
    """Another registry's metrics, collected at each scrape: the served registry is this observer's
    own, so the collectors it adds leave with it and two observers never clash in the default one."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a hung request never keeps the process from exiting


def _server_class(host: str, port: int) -> type[WSGIServer]:
    """IPv4 or IPv6, whichever the host is ("::" or "::1" need the second)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    except socket.gaierror as exc:
        raise ConfigError(f"cannot serve metrics on {host}:{port}: unknown host ({exc.strerror})") from None

    class Server(_ThreadingServer):
        address_family = family

    return Server


class _QuietHandler(WSGIRequestHandler):
    """A scrape every 15 seconds is not worth a log line; errors still are."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def log_error(self, format: str, *args: Any) -> None:
        log.warning("metrics server: %s %s", self.address_string(), format % args)
