"""Live streams, post to inbox: how long from an event on the wire to its mention scored and in the inbox.

    python -m bench.stream [--tiny] [--speeds 1,10,100] [--loops 10,50,200]

A websocket server on loopback replays the recorded events (../shared/data/payloads): production
Jetstream v1's 152-event window at /subscribe and the Mastodon streaming recording (update, edit,
delete, notifications; SSE recorded, sent in the websocket framing) at /api/v1/streaming, each looped
(`--loops`, new ids each loop) at its recorded pace (Jetstream by time_us; Mastodon by the statuses'
created_at), timestamps rewritten to now, then 10x and 100x faster. Grumble runs as `grumble run`
does on SQLite (streams_beside: the real runners, matching, saving and the scoring job nudged after
each batch), with the bundled model, or with --tiny a tiny random one (say which when quoting).
A watcher asks the inbox query (store/inbox.ranked) every 20 ms; a mention counts when it is there
with a label. Printed per speed: events sent and offered per second, mentions expected and seen
(none lost), p50/p95/p99 from sent to seen, the sustained rate (events stored per second from the
first send to the last event stored), the drain (last send to last event stored) and the stream's
largest stored lag. Targets: p95 under 2 s at recorded pace; at 100x nothing lost and the lag bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from websockets.asyncio.server import ServerConnection, serve

from monitor.collect.matching import matches
from monitor.config import Config
from monitor.config.load import parse_config
from monitor.jobs import Jobs, ModelHolder
from monitor.mention import Mention, Watch
from monitor.score.run import load_model, score_pending
from monitor.sources import jetstream
from monitor.sources.http import SkipLog
from monitor.sources.mastodon import parse_status
from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.inbox import ranked
from monitor.store.mentions import import_mentions
from monitor.store.streams import all_streams
from monitor.streams.host import streams_beside

PAYLOADS = Path(__file__).resolve().parents[2] / "shared" / "data" / "payloads"
JETSTREAM_FILE = (
    PAYLOADS / "bluesky_jetstream" / "recorded_jetstream-v1_production_152-events-contiguous-window.jsonl"
)
MASTODON_FILE = (
    PAYLOADS
    / "mastodon_streaming"
    / "recorded_vcr_streaming-user+direct_SSE_update-delete-status.update-notification-conversation.yaml"
)
# English words common enough to keep a share of the recorded posts (the stream is matched on our side).
KEYWORDS = ("the", "a", "is", "you", "and", "of", "to", "respond", "jeep", "plane", "rushmore", "maga")
WATCH = "bench"
# Stand-ins for the send time, replaced as each frame goes out (a string replace: the sender must keep
# up with 100x the recorded pace, which parsing and dumping every frame again would not).
NOW_US = "9999999999999999"
NOW_ISO = "@@NOW@@"
EDITED_ISO = "@@EDITED@@"


@dataclass
class Frame:
    offset_s: float  # when to send it, from the phase's start, at recorded pace
    text: str
    key: str | None = None  # the mention's external id, when the frame creates one the watch keeps


@dataclass
class Phase:
    jetstream: list[Frame]
    mastodon: list[Frame]
    speed: float
    sent_at: dict[str, float] = field(default_factory=dict)  # external id -> wall time sent
    first_sent: float | None = None
    last_sent: float | None = None
    events: int = 0


def bench_watch() -> Watch:
    return Watch(WATCH, keywords=KEYWORDS)


def jetstream_frames(loops: int, tag: str) -> list[Frame]:
    events = [json.loads(line) for line in JETSTREAM_FILE.read_text(encoding="utf-8").splitlines() if line]
    start = min(e["time_us"] for e in events)
    span = (max(e["time_us"] for e in events) - start) / 1e6 + 0.002
    frames = []
    for loop in range(loops):
        for event in events:
            event = json.loads(json.dumps(event))
            offset = loop * span + (event["time_us"] - start) / 1e6
            if "rkey" in event.get("commit", {}):
                event["commit"]["rkey"] += f"{tag}{loop}"
            parsed = jetstream.parse_event(event, SkipLog("bench"))
            event["time_us"] = int(NOW_US)
            record = event.get("commit", {}).get("record")
            if isinstance(record, dict) and "createdAt" in record:
                record["createdAt"] = NOW_ISO
            key = None
            if (
                parsed is not None
                and parsed.mention is not None
                and matches(bench_watch(), parsed.mention, need_keyword=True)
            ):
                key = parsed.mention.external_id
            frames.append(Frame(offset, json.dumps(event), key))
    frames.sort(key=lambda f: f.offset_s)
    return frames


def mastodon_frames(loops: int, tag: int) -> list[Frame]:
    import yaml  # type: ignore[import-untyped]

    cassette = yaml.safe_load(MASTODON_FILE.read_text(encoding="utf-8"))
    pairs: list[tuple[str, str]] = []
    for item in cassette["interactions"]:
        if "/streaming/" not in item["request"]["uri"]:
            continue
        for block in str(item["response"]["body"]["string"]).split("\n\n"):
            lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if "event" in lines and "data" in lines:
                pairs.append((lines["event"], lines["data"]))
    times = [
        datetime.fromisoformat(json.loads(data)["created_at"].replace("Z", "+00:00")).timestamp()
        for event, data in pairs
        if event == "update"
    ]
    start = min(times)
    span = max(times) - start + 1.0
    frames: list[Frame] = []
    for loop in range(loops):
        previous = 0.0
        deleted = {data for event, data in pairs if event == "delete"}
        for event, data in pairs:
            shift = str(10**15 * tag + 10**12 * (loop + 1))  # new ids each loop, still growing
            key = None
            if event in ("update", "status.update"):
                status = json.loads(data)
                original = status["id"]
                status["id"] = str(int(original) + int(shift))
                offset = loop * span + (
                    datetime.fromisoformat(status["created_at"].replace("Z", "+00:00")).timestamp() - start
                )
                if event == "update":
                    previous = offset
                    # A status the recording later deletes may leave the inbox before it is seen.
                    parsed = parse_status(status, SkipLog("bench"))
                    kept = parsed is not None and matches(bench_watch(), parsed[1], need_keyword=True)
                    key = status["id"] if kept and original not in deleted else None
                else:
                    previous = offset = previous + 0.5  # the edit came after its post
                    status["edited_at"] = EDITED_ISO
                status["created_at"] = NOW_ISO
                payload = json.dumps(status)
            elif event == "delete":
                payload = str(int(data) + int(shift))
                offset = previous = previous + 0.5
            else:
                payload, offset = data, previous
            frame = {"stream": ["hashtag", "bench"], "event": event, "payload": payload}
            frames.append(Frame(offset, json.dumps(frame), key))
    frames.sort(key=lambda f: f.offset_s)
    return frames


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rewrite_now(frame: Frame) -> str:
    """Timestamps rewritten to the moment of sending: the event is fresh, its lag is real. (An edit's
    created_at becomes now too: the recording's own gap between post and edit is not kept.)"""
    moment = now_iso()
    return (
        frame.text.replace(NOW_US, str(int(time.time() * 1_000_000)))
        .replace(NOW_ISO, moment)
        .replace(EDITED_ISO, moment)
    )


class ReplayServer:
    """Serves the current phase's frames at their pace, one connection per stream."""

    def __init__(self) -> None:
        self.phase: Phase | None = None
        self.port = 0
        self._ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: Any = None
        threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True).start()
        self._ready.wait(10)

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        async with serve(self._handler, "127.0.0.1", 0, max_queue=None) as server:
            self.server = server
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await server.serve_forever()

    async def _handler(self, websocket: ServerConnection) -> None:
        phase = self.phase
        assert phase is not None and websocket.request is not None
        path = websocket.request.path.split("?")[0]
        frames = phase.jetstream if path == "/subscribe" else phase.mastodon
        await asyncio.sleep(0.5)  # both streams connected (and Mastodon subscribed) before the clock starts
        start = time.monotonic()
        for frame in frames:
            wait = start + frame.offset_s / phase.speed - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            sent = time.time()
            await websocket.send(rewrite_now(frame))
            phase.events += 1
            phase.first_sent = phase.first_sent or sent
            phase.last_sent = max(phase.last_sent or 0.0, sent)
            if frame.key is not None:
                phase.sent_at.setdefault(frame.key, sent)
        await websocket.wait_closed()


def watch_inbox(
    engine: Engine,
    expected: set[str],
    seen: dict[str, float],
    stages: dict[str, tuple[float, float]],
    stop: threading.Event,
) -> None:
    where = MentionFilter(watches=[WATCH])
    while not stop.is_set() and len(seen) < len(expected):
        for row in ranked(engine, where, limit=5000, sort="newest"):
            if row["external_id"] in expected and row["external_id"] not in seen and row.get("label"):
                seen[row["external_id"]] = time.time()
                stages[row["external_id"]] = (row["collected_at"].timestamp(), row["scored_at"].timestamp())
        time.sleep(0.02)


def config_for(port: int, database_url: str, model: str | None) -> Config:
    data: dict[str, Any] = {
        "database_url": database_url,
        "model": {"name": model} if model else {},
        "sources": {
            "bluesky": {"jetstream_url": f"ws://127.0.0.1:{port}/subscribe"},
            "mastodon": {"streaming_url": f"ws://127.0.0.1:{port}/api/v1/streaming", "access_token": "bench"},
        },
        "watches": [
            {
                "name": WATCH,
                "keywords": list(KEYWORDS),
                "sources": {"bluesky": {"stream": True}, "mastodon": {"stream": True, "hashtags": ["bench"]}},
            }
        ],
    }
    if not model:
        del data["model"]
    return parse_config(data, None, {}, database_url)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(share * (len(ordered) - 1)), len(ordered) - 1)]


def run_phase(
    server: ReplayServer, holder: ModelHolder, model: str | None, speed: float, loops: int, tmp: Path
) -> dict[str, Any]:
    tag = f"x{int(speed)}"
    phase = Phase(jetstream_frames(loops, tag), mastodon_frames(max(loops // 10, 1), int(speed)), speed)
    server.phase = phase
    database_url = f"sqlite:///{tmp / f'stream-{tag}.db'}"
    engine = connect(database_url)
    config = config_for(server.port, database_url, model)
    jobs = Jobs(config, engine, holder)
    expected = {f.key for f in phase.jetstream + phase.mastodon if f.key}
    seen: dict[str, float] = {}
    stages: dict[str, tuple[float, float]] = {}  # external id -> (stored, scored), wall time
    stop = threading.Event()
    watcher = threading.Thread(target=watch_inbox, args=(engine, expected, seen, stages, stop), daemon=True)
    total = len(phase.jetstream) + len(phase.mastodon)
    lags: list[float] = []
    drained_at = None
    with streams_beside(config, engine, jobs.source, jobs.score):
        watcher.start()
        deadline = time.monotonic() + 120 + 2 * max(f.offset_s for f in phase.jetstream) / speed
        while time.monotonic() < deadline:
            streams = all_streams(engine)
            lags += [s.lag_seconds for s in streams if s.lag_seconds is not None]
            stored = sum(s.events_total for s in streams)
            if stored >= total and drained_at is None:
                drained_at = time.time()
            if drained_at is not None and len(seen) >= len(expected):
                break
            time.sleep(0.05)
        stop.set()
        watcher.join()
    latencies = [seen[k] - phase.sent_at[k] for k in seen if k in phase.sent_at]
    to_store = [stages[k][0] - phase.sent_at[k] for k in stages if k in phase.sent_at]
    to_score = [stages[k][1] - stages[k][0] for k in stages]
    missing = sorted(expected - set(seen))
    first, last = phase.first_sent or 0.0, phase.last_sent or 0.0
    result = {
        "speed": speed,
        "events": phase.events,
        "offered_per_s": phase.events / max(last - first, 1e-3),
        "expected": len(expected),
        "seen": len(seen),
        "lost": len(expected - set(seen)),
        "p50": percentile(latencies, 0.50) if latencies else float("nan"),
        "p95": percentile(latencies, 0.95) if latencies else float("nan"),
        "p99": percentile(latencies, 0.99) if latencies else float("nan"),
        "sustained_per_s": phase.events / max((drained_at or time.time()) - first, 1e-3),
        "drain_s": (drained_at - last) if drained_at else float("nan"),
        "max_lag_s": max(lags) if lags else float("nan"),
        "mean_lag_s": statistics.fmean(lags) if lags else float("nan"),
        "p50_stored": statistics.median(to_store) if to_store else float("nan"),
        "p50_scored": statistics.median(to_score) if to_score else float("nan"),
        "missing": missing[:5],
    }
    engine.dispose()
    return result


def warm_up(holder: ModelHolder, tmp: Path) -> None:
    """Load the model and score once, as `grumble run` does at start: the first scoring pays one-off
    costs (the first inference, the language detector) that no streamed post waits for in service."""
    engine = connect(f"sqlite:///{tmp / 'warm-up.db'}")
    # The language detector loads each language's model on first meeting it: warm up on the
    # recordings' own languages (other posts, other ids) as a service running for a while has.
    texts = [
        json.loads(f.text).get("commit", {}).get("record", {}).get("text")
        for f in jetstream_frames(1, "warm")
    ]
    batch = [
        Mention("warm-up", str(n), text, datetime.now(UTC))
        for n, text in enumerate(["warming up the model", *(t for t in texts if isinstance(t, str) and t)])
    ]
    import_mentions(engine, WATCH, batch)
    score_pending(engine, holder.get())
    engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stream", description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="score with a tiny random model (fast to load)")
    parser.add_argument("--speeds", default="1,10,100")
    parser.add_argument("--loops", default="10,50,200", help="times each recording is replayed, per speed")
    args = parser.parse_args(argv)
    for path in (JETSTREAM_FILE, MASTODON_FILE):
        if not path.exists():
            print(
                f"missing recording {path} (../shared/data/payloads beside the repository)", file=sys.stderr
            )
            return 2
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        model: str | None = None
        if args.tiny:
            from models.training.tiny import build_tiny_model

            model = str(build_tiny_model(tmp / "tiny"))
        started = time.monotonic()
        holder = ModelHolder(lambda: load_model(model))
        warm_up(holder, tmp)
        which = "tiny random (--tiny)" if args.tiny else "bundled"
        print(f"model: {which}, loaded and warmed up in {time.monotonic() - started:.1f} s")
        server = ReplayServer()
        speeds = [float(s) for s in args.speeds.split(",")]
        loops = [int(n) for n in args.loops.split(",")]
        print(
            f"{'speed':>6} {'events':>7} {'offered/s':>10} {'posts':>6} {'lost':>5} {'p50 s':>7} "
            f"{'p95 s':>7} {'p99 s':>7} {'sustained/s':>12} {'drain s':>8} {'max lag s':>10}"
        )
        for speed, count in zip(speeds, loops + loops[-1:] * len(speeds), strict=False):
            r = run_phase(server, holder, model, speed, count, tmp)
            print(
                f"{r['speed']:>5g}x {r['events']:>7} {r['offered_per_s']:>10.0f} "
                f"{r['seen']:>3}/{r['expected']:<3}{r['lost']:>4} {r['p50']:>7.3f} {r['p95']:>7.3f} "
                f"{r['p99']:>7.3f} {r['sustained_per_s']:>12.0f}"
                f" {r['drain_s']:>8.2f} {r['max_lag_s']:>10.2f}",
                flush=True,
            )
            print(
                f"        median: sent -> stored {r['p50_stored']:.3f} s, "
                f"stored -> scored {r['p50_scored']:.3f} s"
                + (f"; not seen: {', '.join(r['missing'])}" if r["missing"] else ""),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
