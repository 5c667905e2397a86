"""A real websocket server on 127.0.0.1 for the stream tests: it replays frames and records every
connection (path, query, headers, the messages the client sent). The runner under test connects to it
over a real socket with the real `websockets` client.

Each connection follows the next `Script` queued (the last one repeats): refuse the handshake with a
status and body, or send frames (Jetstream-style: only those at or after the `cursor` query parameter,
as the real server replays), then either keep the connection open or drop it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response


@dataclass
class Script:
    frames: Sequence[str] = ()
    refuse: tuple[int, str] | None = None  # (status, body) instead of accepting
    drop_after: int | None = None  # close abruptly after this many frames
    keep_open: bool = True  # after the frames, wait for the client to leave
    by_cursor: Callable[[str], int] | None = None  # frame -> its time_us, to honour ?cursor=
    pace_s: float = 0.0  # pause between frames


@dataclass
class Connection:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    received: list[str] = field(default_factory=list)
    sent: int = 0


class WsReplay:
    def __init__(self) -> None:
        self.scripts: list[Script] = [Script()]
        self.connections: list[Connection] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self.port = 0

    def url(self, path: str = "/subscribe") -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def play(self, *scripts: Script) -> None:
        self.scripts = list(scripts)

    def start(self) -> WsReplay:
        self._thread.start()
        assert self._ready.wait(10), "the websocket server did not start"
        return self

    def close(self) -> None:
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._thread.join(timeout=10)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "timed out waiting on the stream"
            time.sleep(0.02)

    def _main(self) -> None:
        asyncio.run(self._serve())

    def _script(self) -> Script:
        index = len(self.connections) - 1
        return self.scripts[min(index, len(self.scripts) - 1)]

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        headers = {k.lower(): v for k, v in request.headers.raw_items()}
        self.connections.append(Connection(parts.path, query, headers))
        script = self._script()
        if script.refuse is not None:
            status, body = script.refuse
            return Response(
                status,
                "Refused",
                Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))]),
                body.encode(),
            )
        return None

    async def _handler(self, websocket: ServerConnection) -> None:
        record = self.connections[-1]
        script = self._script()

        async def listen() -> None:
            with contextlib.suppress(ConnectionClosed):
                async for message in websocket:
                    record.received.append(message if isinstance(message, str) else message.decode())

        listening = asyncio.create_task(listen())
        await asyncio.sleep(0.05)  # let subscribe messages arrive first, as a real server reads them
        frames = list(script.frames)
        cursor = record.query.get("cursor")
        if script.by_cursor is not None and cursor is not None:
            frames = [f for f in frames if script.by_cursor(f) >= int(cursor)]
        for frame in frames:
            if script.drop_after is not None and record.sent >= script.drop_after:
                websocket.transport.abort()  # no close frame: a dropped connection
                return
            await websocket.send(frame)
            record.sent += 1
            if script.pace_s:
                await asyncio.sleep(script.pace_s)
        if script.drop_after is not None and record.sent >= script.drop_after:
            websocket.transport.abort()
            return
        if script.keep_open:
            await listening
        else:
            await websocket.close()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        async with serve(self._handler, "127.0.0.1", 0, process_request=self._process_request) as server:
            self._server = server
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await server.serve_forever()


def jetstream_time(frame: str) -> int:
    data: Any = json.loads(frame)
    return int(data["time_us"])


@pytest.fixture
def ws_server() -> Iterator[WsReplay]:
    server = WsReplay().start()
    try:
        yield server
    finally:
        server.close()
