"""`grumble collect`, `score` and `classify`: mentions in from the sources, and sentiment on them."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from monitor.cli.common import EXIT_ERROR, config_of
from monitor.errors import ConfigError, GrumbleError
from monitor.store.engine import connect

if TYPE_CHECKING:  # the collector is imported when a command runs, not when the CLI starts
    from monitor.collect.run import CollectResult


def cmd_collect(args: argparse.Namespace) -> int:
    from monitor.collect.run import collect
    from monitor.jobs import Jobs
    from monitor.score.run import score_pending

    config = config_of(args)
    engine = connect(config.database_url)
    jobs = Jobs.for_config(config, engine)
    selected = [
        (watch, source)
        for watch, source in config.jobs()
        if (not args.source or source in args.source) and (not args.watch or watch.name in args.watch)
    ]
    if not selected:
        raise ConfigError(
            f"{config.path or 'configuration'}: no (watch, source) pair matches; check the watches' sources"
        )
    failures = 0
    for watch, source_name in selected:
        try:
            source = jobs.source(source_name)
        except GrumbleError as exc:
            failures += 1
            print(f"{watch.name}/{source_name}: FAILED: cannot set up the source: {exc}", file=sys.stderr)
            continue
        result = collect(engine, watch, source, force=True)
        if result.ok:
            print(f"{watch.name}/{source_name}: {result.summary}")
            for warning in result.warnings:
                print(f"{watch.name}/{source_name}: PARTLY FAILED: {warning}", file=sys.stderr)
            # Some mentions are missing: a cron wrapper must hear about it as it would a failure.
            failures += bool(result.warnings)
        else:
            failures += 1
            print(failure_line(result), file=sys.stderr)
    if not args.no_score:
        # Unhappy mentions join their complaint topics as they are scored, as in `grumble run`.
        assign = jobs.assign_topics if config.topics.enabled else None
        batch = config.model.batch_size
        scored = score_pending(engine, jobs.model.get(), batch_size=batch, after_batch=assign)
        print(f"scored {scored} mentions")
    return EXIT_ERROR if failures else 0


def failure_line(result: CollectResult) -> str:
    """A failed run's line; with what the pages before the failure stored (they stay stored)."""
    stored = f" after {result.summary}" if result.pages else ""
    return f"{result.watch}/{result.source}: FAILED{stored}: {result.error}"


def cmd_score(args: argparse.Namespace) -> int:
    from monitor.score.run import load_model, score_pending

    config = config_of(args)
    engine = connect(config.database_url)
    model = load_model(args.model or config.model.name)
    scored = score_pending(engine, model, batch_size=config.model.batch_size, rescore=args.rescore)
    print(f"scored {scored} mentions with {model.version}")
    return 0


def _lines(args: argparse.Namespace) -> Iterator[str]:
    if args.input:
        try:
            handle: TextIO = open(args.input, encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError as exc:
            raise GrumbleError(f"cannot read {args.input}: {exc.strerror}") from None
    else:
        handle = sys.stdin
    with handle:
        for line in handle:
            yield line.rstrip("\r\n")


def cmd_classify(args: argparse.Namespace) -> int:
    from monitor.score.run import load_model

    model = load_model(args.model or config_of(args).model.name)
    batch: list[str] = []

    def flush() -> None:
        for score in model.predict(batch):
            probabilities = {
                "negative": round(score.negative, 4),
                "neutral": round(score.neutral, 4),
                "positive": round(score.positive, 4),
            }
            print(json.dumps({"label": score.label, "scores": probabilities, "language": score.language}))
        sys.stdout.flush()
        batch.clear()

    for line in _lines(args):
        batch.append(line)
        if len(batch) >= 256:
            flush()
    flush()
    return 0
