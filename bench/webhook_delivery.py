"""Webhook delivery: how many signed events a second the webhook job records and delivers to a receiver
on loopback.

    python -m bench.webhook_delivery [--events 2000] [--endpoints 1] [--database sqlite:///...]

A backlog of `--events` negative mentions is scored into the store (after the job's first pass, so they
are news), then one run of the job (monitor/webhooks/delivery.py, as the scheduler calls it) turns them
into `mention.negative` events and delivers each to every endpoint. The receiver is a threaded HTTP/1.1
server on 127.0.0.1 that verifies every signature with the `standardwebhooks` reference library and
counts each `webhook-id` once. Printed: the events, the deliveries, the seconds spent recording and
delivering, and deliveries per second; the target is at least 200 a second (the job keeps up with
200 new events a second). `main(argv)` returns the deliveries per second (bench.api calls it).
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from monitor.config.load import parse_config
from monitor.mention import Mention, utcnow
from monitor.store.engine import connect
from monitor.store.mentions import insert_mentions
from monitor.store.schema import mentions
from monitor.webhooks.delivery import WebhookDelivery

TARGET_PER_SECOND = 200.0
SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()


class Receiver:
    """Verifies each request with the reference library; keeps the ids it accepted."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.refused = 0
        self.lock = threading.Lock()
        receiver, verifier = self, Webhook(SECRET)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    verifier.verify(body, dict(self.headers.items()))
                    status = 204
                except WebhookVerificationError:
                    status = 401
                with receiver.lock:
                    if status == 204:
                        receiver.ids.add(self.headers["webhook-id"])
                    else:
                        receiver.refused += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks"


def seed_negatives(database_url: str, count: int) -> None:
    engine = connect(database_url)
    now = utcnow()
    batch = [
        Mention(
            source="bench",
            external_id=f"w{now.timestamp()}-{n}",
            text=f"order {n} never arrived and support does not answer",
            created_at=now - timedelta(minutes=10),
            author=f"author{n}",
            url=f"https://social.example/{n}",
        )
        for n in range(count)
    ]
    with engine.begin() as connection:
        insert_mentions(connection, "acme", batch)
        connection.execute(
            update(mentions)
            .where(mentions.c.source == "bench", mentions.c.scored_at.is_(None))
            .values(
                label="negative",
                negative=0.9,
                neutral=0.05,
                positive=0.05,
                model_version="bench",
                scored_at=now,
            )
        )
    engine.dispose()


def main(argv: Sequence[str] | None = None) -> float:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--endpoints", type=int, default=1, help="endpoints subscribed to every event")
    parser.add_argument("--database", default=None, help="default: a new SQLite file in a temp folder")
    args = parser.parse_args([] if argv is None else argv)
    folder = tempfile.TemporaryDirectory(prefix="grumble-bench-webhooks-")
    database_url = args.database or f"sqlite:///{Path(folder.name) / 'bench.db'}"
    receiver = Receiver()
    config = parse_config(
        {
            "database_url": database_url,
            "watches": [{"name": "acme"}],
            "webhooks": {
                "endpoints": [
                    {
                        "name": f"bench{n}",
                        "url": receiver.url,
                        "events": ["mention.negative"],
                        "secret_env": "S",
                    }
                    for n in range(args.endpoints)
                ]
            },
        },
        None,
        {"S": SECRET},
    )
    engine = connect(database_url)
    with httpx.Client() as http:
        job = WebhookDelivery(config, engine, http=http)
        job.run()  # the cursors start now: what is seeded next is news
        seed_negatives(database_url, args.events)
        started = time.perf_counter()
        recorded = job.record_events(job.enabled_endpoints())
        recorded_at = time.perf_counter()
        report = job.run()
        finished = time.perf_counter()
    engine.dispose()
    receiver.server.shutdown()
    folder.cleanup()

    delivered = report.delivered
    seconds = finished - started
    rate = delivered / seconds if seconds else 0.0
    print(f"webhook delivery on {engine.dialect.name}, {args.endpoints} endpoint(s), loopback receiver")
    print(f"  events: {args.events:,}; deliveries made: {recorded:,}; delivered: {delivered:,}")
    print(
        f"  received once each (by webhook-id): {len(receiver.ids):,}; refused signatures: {receiver.refused}"
    )
    print(f"  recording: {recorded_at - started:.2f} s; delivering: {finished - recorded_at:.2f} s")
    verdict = "met" if rate >= TARGET_PER_SECOND else "NOT met"
    print(f"  deliveries per second: {rate:,.0f} (target {TARGET_PER_SECOND:.0f}/s: {verdict})")
    return rate


if __name__ == "__main__":
    main(sys.argv[1:])
