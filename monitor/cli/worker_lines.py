"""`grumble status`'s lines about the queue's workers: each live or silent one and what it runs, those
that vanished (taken for dead and not back), and which run another config than the scheduler."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from monitor.config import Config
from monitor.store import queue


def print_workers(engine: Engine, config: Config, scheduler: str | None) -> None:
    """`scheduler`: the elected scheduler's name, whose config the workers' are compared with."""
    expected = queue.scheduler_config_hash(engine, scheduler) if scheduler else None
    if expected:
        print(f"  scheduler config {expected}")
    drifted = []
    for worker in queue.workers(engine):
        alive = worker.seconds_since_heartbeat <= config.queue.stalled_after_seconds
        state = "alive" if alive else "SILENT (taken for dead; its jobs go to others)"
        differs = expected is not None and worker.config_hash not in (None, expected)
        if differs:
            drifted.append(worker.name)
        shown = f"  config {worker.config_hash}" if worker.config_hash else ""
        print(
            f"  #{worker.id} {worker.name}  [{state}]  "
            f"last heartbeat {worker.seconds_since_heartbeat:.0f} s ago{shown}"
            + ("  CONFIG DIFFERS from the scheduler's" if differs else "")
        )
        for job in worker.running:
            print(f"    running {job}")
    for missing in queue.missing_workers(engine):
        print(
            f"  #{missing.id} {missing.name}  [MISSING: taken for dead at {_when(missing.vanished_at)}, "
            f"last heartbeat {_when(missing.last_heartbeat)}; not back since]"
        )
    if drifted:
        print(
            f"  config drift: {', '.join(drifted)} run another grumble.toml than the scheduler's: they skip "
            "jobs for watches or lists they do not know; restart them with the scheduler's config"
        )


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "unknown"
