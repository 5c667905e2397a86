"""A real HTTP server on 127.0.0.1 for tests: routes answer with canned replies or handlers, every request
is recorded. Clients under test (httpx, PRAW's requests session) talk to it over a real socket.

    server.route("GET", "/api/v1/search", Reply.json({"hits": []}))
    server.route("GET", re.compile(r"/r/\\w+/new"), Reply(status=503))      # path as a regex
    server.route("GET", "/x", Reply(status=500), Reply.json({}))             # first 500, then 200 forever
    server.route("GET", "/x", handler)                                        # handler(Request) -> Reply
    server.requests[-1].query["q"]                                            # what the client sent

Later routes win over earlier ones for the same request, so a test can override one endpoint (with an
error, say) on top of a working fake API. A request no route matches gets a 404 JSON body and is kept in
`server.unmatched`, which is what to look at when a test fails with SourceNotFound.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

# Hop-by-hop and encoding headers describe the original transfer, not the bytes we send.
_DROPPED_HEADERS = {"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]  # last value of each parameter
    query_lists: dict[str, list[str]]  # every value, for repeated parameters (any[]=a&any[]=b)
    headers: dict[str, str]  # lower-case names
    body: bytes
    raw_path: str

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # answer this late (for client timeouts)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
        return cls(
            status, json.dumps(data), {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        )

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Reply:
        return cls(status, text, {"Content-Type": content_type})


Handler = Callable[[Request], Reply]
Answer = Reply | Handler


@dataclass
class _Route:
    method: str
    path: str | re.Pattern[str]
    query: Mapping[str, str] | None
    answers: list[Answer]
    served: int = 0

    def matches(self, request: Request) -> bool:
        if self.method != "*" and self.method != request.method:
            return False
        if isinstance(self.path, re.Pattern):
            if not self.path.fullmatch(request.path):
                return False
        elif self.path != request.path:
            return False
        return all(request.query.get(k) == v for k, v in (self.query or {}).items())

    def next_answer(self) -> Answer:
        answer = self.answers[min(self.served, len(self.answers) - 1)]
        self.served += 1
        return answer


class ReplayServer:
    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self.unmatched: list[Request] = []
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                server._handle(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        # Do not wait for a deliberately slow handler when the test is over.
        self._httpd.block_on_close = False
        # A short poll interval: shutdown() waits up to one interval, once per test.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="replay-server",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(
        self,
        method: str,
        path: str | re.Pattern[str],
        *answers: Answer,
        query: Mapping[str, str] | None = None,
    ) -> None:
        if not answers:
            raise ValueError("a route needs at least one reply or handler")
        with self._lock:
            self._routes.append(_Route(method.upper(), path, query, list(answers)))

    def clear(self) -> None:
        with self._lock:
            self._routes.clear()
            self.requests.clear()
            self.unmatched.clear()

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        split = urlsplit(handler.path)
        lists = parse_qs(split.query, keep_blank_values=True)
        request = Request(
            method=handler.command,
            path=split.path,
            query={k: v[-1] for k, v in lists.items()},
            query_lists=lists,
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            raw_path=handler.path,
        )
        with self._lock:
            self.requests.append(request)
            route = next((r for r in reversed(self._routes) if r.matches(request)), None)
            answer = route.next_answer() if route else None
            if route is None:
                self.unmatched.append(request)
        if answer is None:
            reply = Reply.json({"error": f"no route for {request.method} {request.raw_path}"}, status=404)
        elif isinstance(answer, Reply):
            reply = answer
        else:
            try:
                reply = answer(request)
            except Exception as exc:  # a broken test handler should fail loudly, not hang the client
                reply = Reply.text(f"test handler raised {type(exc).__name__}: {exc}", status=599)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        data = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
        try:
            handler.send_response(reply.status)
            for name, value in reply.headers.items():
                if name.lower() not in _DROPPED_HEADERS:
                    handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(data)))
            if request.headers.get("connection", "").lower() == "close":
                # Say so, as real servers do: a client that reuses the socket would race its closing.
                handler.send_header("Connection", "close")
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    server = ReplayServer()
    try:
        yield server
    finally:
        server.close()
