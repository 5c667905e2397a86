"""`grumble status` and `hash-password`: how each source is doing, and a password hash for [[users]]."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from sqlalchemy import Engine

from monitor.cli.common import config_of
from monitor.config import Config
from monitor.errors import GrumbleError
from monitor.store.engine import connect


def cmd_hash_password(args: argparse.Namespace) -> int:
    import getpass

    from monitor.auth.users import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise GrumbleError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        raise GrumbleError("use a password of at least 8 characters")
    print(hash_password(password))
    return 0


def _format_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


def _print_queue(engine: Engine, config: Config) -> None:
    """PostgreSQL: the elected scheduler, each worker and what it runs, and the queue by state."""
    from monitor.cli.worker_lines import print_workers
    from monitor.queue.election import APPLICATION_NAME_PREFIX, SCHEDULER_LOCK_KEY
    from monitor.store import queue

    stats = queue.queue_stats(engine, config.queue.stalled_after_seconds)
    if stats is None:
        return
    leader = queue.scheduler_leader(engine, SCHEDULER_LOCK_KEY, APPLICATION_NAME_PREFIX)
    if leader is None:
        print("scheduler: NONE elected: start `grumble run` (nothing is being scheduled)")
    else:
        print(f"scheduler: {leader.name} (connected since {_format_time(leader.since)})")
    silent = f", {stats.stalled_workers} silent" if stats.stalled_workers else ""
    print(f"workers: {stats.live_workers} alive{silent}")
    print_workers(engine, config, leader.name if leader else None)
    waiting, running = stats.jobs_by_status["todo"], stats.jobs_by_status["doing"]
    superseded = queue.superseded_jobs(engine)
    replaced = f", {superseded} superseded by a newer queued job" if superseded else ""
    print(
        f"queue: {waiting} waiting, {running} running, {queue.failed_jobs(engine)} failed (kept a week), "
        f"{stats.stalled_jobs} stalled{replaced}"
    )
    if waiting and not stats.live_workers:
        print("  jobs are waiting and no worker is alive: start `grumble worker` (or `grumble run`)")


def cmd_status(args: argparse.Namespace) -> int:
    from monitor.sources.quota_report import quota_report
    from monitor.store.collect_state import all_states
    from monitor.store.mentions import counts_by_source
    from monitor.store.quotas import SharedQuotaLedger

    config = config_of(args)
    engine = connect(config.database_url)
    counts = counts_by_source(engine)
    states = all_states(engine)
    print(f"database: {engine.url.render_as_string(hide_password=True)}")
    _print_queue(engine, config)
    from monitor.webhooks.overview import status_lines as webhook_lines

    for line in webhook_lines(config, engine):  # endpoints: health, pending, the latest attempts
        print(line)
    names = sorted({s.source for s in states} | set(counts) | {source for _, source in config.jobs()})
    if not names:
        print("no sources yet: add watches to the config, then run `grumble collect --once`")
        return 0
    quotas = quota_report(config, SharedQuotaLedger(engine), names)
    for name in names:
        mine = [s for s in states if s.source == name]
        count = counts.get(name)
        failing = [s for s in mine if s.health == "failing"]
        degraded = [s for s in mine if s.health == "degraded"]
        health = (
            "FAILING"
            if failing
            else "DEGRADED"
            if degraded
            else "ok"
            if any(s.last_success_at for s in mine)
            else "-"
        )
        last_success = max((s.last_success_at for s in mine if s.last_success_at), default=None)
        if not mine:
            health = "no collection job: imported or demo mentions"
        print(f"\n{name}  [{health}]")
        if mine:
            # What its jobs brought in (the Sources page's figure): a source such as demo hands over
            # mentions under the names of the networks they came from, so its stored count can be 0.
            print(f"  collected:        {sum(s.mentions_collected for s in mine)}")
        print(f"  mentions stored:  {count.stored if count else 0} (under the source name {name!r})")
        print(f"  pending scoring:  {count.pending if count else 0}")
        if mine:
            print(f"  last success:     {_format_time(last_success)}")
        for state in failing:
            print(
                f"  last error ({state.watch}): {_format_time(state.last_error_at)}, "
                f"{state.consecutive_failures} failures in a row, "
                f"next try {_format_time(state.next_attempt_at)}"
            )
            print(f"    {state.last_error}")
        for state in degraded:
            print(f"  partly failing ({state.watch}), last run {_format_time(state.last_success_at)}:")
            print(f"    {state.last_warning}")
        for line in quotas.get(name, []):
            print(f"  {line}")
    from monitor.streams.health import status_lines

    for line in status_lines(engine):  # live streams: connected, lag, events/min, reconnects
        print(line)
    return 0
