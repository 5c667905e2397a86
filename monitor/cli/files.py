"""`grumble import` and `export`: mentions in from CSV or JSONL files, and every stored field out."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from monitor.cli.common import EXIT_ERROR, config_of
from monitor.errors import GrumbleError
from monitor.mention import utcnow
from monitor.store.engine import connect


def cmd_import(args: argparse.Namespace) -> int:
    from monitor.collect.file_import import import_file

    config = config_of(args)
    engine = connect(config.database_url)
    columns = {}
    for item in args.column:
        field, sep, column = item.partition("=")
        if not sep or not field or not column:
            raise GrumbleError(f"--column {item!r}: write FIELD=COLUMN, e.g. --column text=review_body")
        columns[field.strip()] = column.strip()
    report = import_file(
        engine,
        args.watch,
        Path(args.file),
        columns=columns,
        source=args.source,
        file_format=args.format,
        progress=sys.stderr.isatty(),
    )
    for warning in report.warnings:
        print(f"{args.file}: warning: {warning}", file=sys.stderr)
    for problem in report.problems:
        print(f"{args.file}: skipped {problem}", file=sys.stderr)
    print(
        f"imported {report.new} new mentions into watch {args.watch!r} "
        f"({report.read - report.new} already stored, {len(report.problems)} rows skipped)"
    )
    if report.labelled:
        print(f"kept {report.labelled} label(s) of the label column as corrections, for `grumble learn`")
    if report.new and not args.no_score:
        from monitor.score.run import load_model, score_pending

        score_pending(engine, load_model(config.model.name), batch_size=config.model.batch_size)
    return EXIT_ERROR if report.problems and not report.read else 0


AGE = re.compile(r"^\s*(\d+)\s*([dhm])\s*$")


def parse_since(value: str) -> datetime:
    from monitor.sources.text import parse_time

    match = AGE.match(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return utcnow() - timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: amount})
    moment = parse_time(value)
    if moment is None:
        raise GrumbleError(f"--since {value!r}: expected a date like 2024-05-01 or an age like 7d, 12h, 30m")
    return moment


def cmd_export(args: argparse.Namespace) -> int:
    from monitor.store.filters import MentionFilter
    from monitor.store.mentions import iter_all
    from monitor.surface.export import write_csv, write_jsonl

    config = config_of(args)
    engine = connect(config.database_url)
    where = MentionFilter(
        watches=args.watch or (),
        sources=args.source or (),
        labels=args.label or (),
        since=parse_since(args.since) if args.since else None,
    )
    rows = iter_all(engine, where)
    handle: TextIO = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout  # noqa: SIM115
    try:
        count = write_jsonl(rows, handle) if args.format == "jsonl" else write_csv(rows, handle)
    finally:
        if args.output:
            handle.close()
    if args.output:
        print(f"exported {count} mentions to {args.output}", file=sys.stderr)
    return 0
