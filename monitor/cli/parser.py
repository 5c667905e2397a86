"""The command line: every command's arguments in one place, and `main`, which runs the chosen command
and turns errors into one-line messages and exit codes."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from models.labels import LABELS
from monitor.cli.admin import cmd_hash_password, cmd_status
from monitor.cli.api import add_api_commands
from monitor.cli.common import EXIT_CONFIG, EXIT_ERROR
from monitor.cli.files import cmd_export, cmd_import
from monitor.cli.learn import add_learn_commands
from monitor.cli.logs import JsonFormatter, package_version
from monitor.cli.mentions import cmd_classify, cmd_collect, cmd_score
from monitor.cli.notify import cmd_alerts, cmd_digest
from monitor.cli.service import cmd_dashboard, cmd_init, cmd_up
from monitor.cli.topics import add_topics_commands
from monitor.cli.workers import cmd_run, cmd_worker
from monitor.errors import ConfigError, GrumbleError


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    if args.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, handlers=[handler])
    if not args.verbose:
        # procrastinate logs every job queued, started and ended; Grumble's own lines say what matters.
        for noisy in ("apscheduler", "alembic", "httpx", "procrastinate"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    command: Callable[[argparse.Namespace], int] = args.handler
    try:
        return command(args)
    except ConfigError as exc:
        print(f"grumble: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except GrumbleError as exc:
        print(f"grumble: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


METRICS_HELP = "serve /metrics and /healthz on this port (default: [metrics] port; none: not served)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grumble", description="Self-hosted review and social-media sentiment monitor."
    )
    parser.add_argument(
        "--config", "-c", help="path to grumble.toml (default: $GRUMBLE_CONFIG or ./grumble.toml)"
    )
    parser.add_argument("--database", help="database URL, overriding the config (e.g. sqlite:///x.db)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log debug detail")
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="log lines on stderr as text (default) or one JSON object a line, for log collectors",
    )
    parser.add_argument("--version", action="version", version=f"grumble {package_version()}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], text: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=text, description=text)
        sub.set_defaults(handler=handler)
        return sub

    init = command("init", cmd_init, "Write a commented example grumble.toml.")
    init.add_argument(
        "path", nargs="?", default="grumble.toml", help="where to write it (default ./grumble.toml)"
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing file")

    up = command(
        "up", cmd_up, "Set up everything (config, database, demo data) and run scheduler + dashboard."
    )
    up.add_argument("--no-dashboard", action="store_true", help="run the scheduler only")
    up.add_argument("--no-demo", action="store_true", help="do not load the demo mentions")

    run = command(
        "run",
        cmd_run,
        "Run the scheduler until SIGINT or SIGTERM. On PostgreSQL every `grumble run` stands for scheduler "
        "(one is elected) and works the queue like a `grumble worker`.",
    )
    run.add_argument("--metrics-port", type=int, help=METRICS_HELP)
    run.add_argument(
        "--no-worker",
        action="store_true",
        help="PostgreSQL: only schedule; `grumble worker`s run the jobs",
    )
    worker = command(
        "worker",
        cmd_worker,
        "PostgreSQL: run queued jobs (collect, score, digests, alerts, replies) until SIGINT or SIGTERM.",
    )
    worker.add_argument("--metrics-port", type=int, help=METRICS_HELP)
    worker.add_argument(
        "--concurrency", type=int, help="jobs run at once (default: [queue] concurrency, else 2)"
    )

    collect = command("collect", cmd_collect, "Collect mentions from the configured sources.")
    collect.add_argument("--source", action="append", help="only this source (repeatable)")
    collect.add_argument("--watch", action="append", help="only this watch (repeatable)")
    collect.add_argument("--once", action="store_true", help="one run of each job now, then exit (default)")
    collect.add_argument("--no-score", action="store_true", help="do not score what was collected")

    score = command("score", cmd_score, "Score mentions that have no sentiment yet.")
    score.add_argument(
        "--rescore", action="store_true", help="also re-score mentions scored by another model version"
    )
    score.add_argument("--model", help="model id or path (default: config, else the bundled model)")

    classify = command("classify", cmd_classify, "Score text: one per line in, one JSON object per line out.")
    classify.add_argument("--input", "-i", help="file with one text per line (default: stdin)")
    classify.add_argument("--model", help="model id or path (default: config, else the bundled model)")

    imp = command("import", cmd_import, "Import a CSV or JSONL export of reviews, tickets or surveys.")
    imp.add_argument("file", help="the CSV or JSONL file")
    imp.add_argument("--watch", required=True, help="the watch these mentions belong to")
    imp.add_argument(
        "--format",
        choices=["csv", "jsonl", "play-console"],
        help="default: from the file's extension (a Play Console review export is recognised by its header)",
    )
    imp.add_argument(
        "--source", help="source name to store them under (default: the file's 'source' column, else 'file')"
    )
    imp.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="map a field (id, text, author, url, created_at, rating, title, source, label) to a column",
    )
    imp.add_argument("--no-score", action="store_true", help="do not score the imported mentions now")

    export = command("export", cmd_export, "Export stored mentions with every field and score.")
    export.add_argument("--format", choices=["csv", "jsonl"], default="jsonl")
    export.add_argument("--since", help="only mentions since a date (2024-05-01) or an age (7d, 12h, 30m)")
    export.add_argument("--label", action="append", choices=LABELS, help="repeatable")
    export.add_argument("--watch", action="append", help="only this watch (repeatable)")
    export.add_argument("--source", action="append", help="only this source (repeatable)")
    export.add_argument("--output", "-o", help="write to a file instead of stdout")

    command("dashboard", cmd_dashboard, "Open the Streamlit dashboard.")

    command("hash-password", cmd_hash_password, "Hash a dashboard password for [[users]] password_hash.")
    command(
        "status",
        cmd_status,
        "Per source: last success, last error, mentions stored, pending scoring; on PostgreSQL also the "
        "scheduler, the workers and the queue.",
    )

    digest = command("digest", cmd_digest, "Print (--dry-run, the default) or send (--send) email digests.")
    digest_mode = digest.add_mutually_exclusive_group()
    digest_mode.add_argument("--dry-run", action="store_true", help="print what would be sent; send nothing")
    digest_mode.add_argument("--send", action="store_true", help="send now, unsent earlier digests first")
    digest.add_argument("--list", action="append", help="only this [[digests]] list (repeatable)")

    alerts = command("alerts", cmd_alerts, "Look for negative spikes, loud mentions and failing sources.")
    alerts.add_argument("--check", action="store_true", help="check now and send what is new")
    alerts.add_argument("--dry-run", action="store_true", help="with --check: print, record and send nothing")
    add_learn_commands(command)
    add_api_commands(command)
    add_topics_commands(command)
    return parser
