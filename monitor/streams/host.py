"""Where streams run: a thread with its own event loop, one task per planned stream.

On SQLite `grumble run` hosts them beside APScheduler (`streams_beside`). On PostgreSQL every worker
stands for them (`streams_in_one_worker`): the one holding an advisory lock on a session of its own
runs them, the others check every few seconds and take over once that session ends (its process was
killed, lost its network, or stopped), so exactly one connection per stream is open at a time.
New mentions nudge scoring (`Nudge`): in-process on SQLite, a queued job on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta

from sqlalchemy import Engine

from monitor.config import Config
from monitor.sources.base import Source
from monitor.sources.http import option_int
from monitor.store.leases import this_process
from monitor.streams.bluesky import JetstreamAdapter, JetstreamV2Adapter
from monitor.streams.mastodon import MastodonAdapter
from monitor.streams.plan import StreamPlan, jetstream_protocol, planned_streams
from monitor.streams.runner import Adapter, StreamRunner

log = logging.getLogger(__name__)

# Any fixed number other than the scheduler's and the migrations': the stream holders compete for it.
STREAM_LOCK_KEY = 0x6772756D73747265  # "grumstre"
LEADERSHIP_CHECK_S = 5.0


class Nudge:
    """Runs `work` in a thread of its own whenever nudged, once per burst of nudges: the stream never
    waits for the model, and a thousand events in a second cause a few scoring runs, not a thousand."""

    def __init__(self, work: Callable[[], object], name: str = "stream scoring") -> None:
        self._work = work
        self._wanted = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def __call__(self, *_: object) -> None:
        self._wanted.set()

    def _loop(self) -> None:
        while not self._stopped.is_set():
            if not self._wanted.wait(timeout=0.5):
                continue
            self._wanted.clear()
            try:
                self._work()
            except Exception:
                log.exception("scoring after a streamed batch failed; the scheduled scoring job retries")

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=30)


def build_adapter(config: Config, plan: StreamPlan, source: Callable[[str], Source]) -> Adapter:
    """The adapter of a planned stream, with the source's REST client for catching up."""
    if plan.key.source == "bluesky":
        settings = config.source_settings("bluesky")
        if jetstream_protocol(settings) == "v2":
            return JetstreamV2Adapter(plan.key.endpoint, source("bluesky"))
        options = settings.options
        rewind = option_int(options, "rewind_seconds", 5, minimum=0, maximum=3600)
        return JetstreamAdapter(plan.key.endpoint, source("bluesky"), rewind=timedelta(seconds=rewind))
    token = str(config.source_settings("mastodon").options.get("access_token") or "") or None
    return MastodonAdapter(plan.key.endpoint, source("mastodon"), token)


class StreamHost:
    """Runs the given streams in a thread until `stop()`."""

    def __init__(self, engine: Engine, runners: Sequence[StreamRunner]) -> None:
        self.engine = engine
        self.runners = list(runners)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="streams", daemon=True)

    def start(self) -> StreamHost:
        if self.runners:
            self._thread.start()
            self._ready.wait(timeout=10)
        return self

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        log.info("streaming: %s", ", ".join(r.key.describe() for r in self.runners))
        await asyncio.gather(*(runner.run(self._stop) for runner in self.runners))

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=timeout)


def runners_for(
    config: Config,
    engine: Engine,
    source: Callable[[str], Source],
    on_new: Callable[[int], object],
) -> list[StreamRunner]:
    holder = this_process()
    return [
        StreamRunner(engine, build_adapter(config, plan, source), plan.watches, holder=holder, on_new=on_new)
        for plan in planned_streams(config)
    ]


@contextlib.contextmanager
def streams_beside(
    config: Config, engine: Engine, source: Callable[[str], Source], score: Callable[[], object]
) -> Iterator[StreamHost]:
    """SQLite: this process is the only one; it runs every stream for as long as the block."""
    nudge = Nudge(score)
    host = StreamHost(engine, runners_for(config, engine, source, nudge)).start()
    try:
        yield host
    finally:
        host.stop()
        nudge.close()


@contextlib.contextmanager
def streams_in_one_worker(
    config: Config,
    engine: Engine,
    source: Callable[[str], Source],
    score: Callable[[], object],
    stop: threading.Event,
) -> Iterator[None]:
    """PostgreSQL: stand for the streams' lock in a thread; run them while holding it."""
    if not planned_streams(config):
        yield
        return
    from monitor.queue.election import Election

    election = Election(config.database_url, key=STREAM_LOCK_KEY, prefix="grumble streams ")
    done = threading.Event()

    def lead() -> None:
        host: StreamHost | None = None
        nudge = Nudge(score)
        try:
            while not (stop.is_set() or done.is_set()):
                leading = election.try_lead()
                if leading and host is None:
                    log.info("this worker holds the stream lock: streaming")
                    host = StreamHost(engine, runners_for(config, engine, source, nudge)).start()
                elif not leading and host is not None:
                    log.warning("lost the stream lock: stopping the streams (another worker takes them)")
                    host.stop()
                    host = None
                if done.wait(LEADERSHIP_CHECK_S):
                    break
        finally:
            if host is not None:
                host.stop()
            election.resign()
            nudge.close()

    thread = threading.Thread(target=lead, name="stream lock", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=60)
