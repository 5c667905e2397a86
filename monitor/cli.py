"""The `grumble` command. Thin: parses arguments, calls the library, turns errors into messages and codes."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from models.labels import LABELS
from monitor.config import DEFAULT_CONFIG_PATH, Config, config_path, load_config
from monitor.errors import ConfigError, GrumbleError
from monitor.mention import utcnow
from monitor.store.engine import connect

log = logging.getLogger("grumble")

EXIT_ERROR = 1
EXIT_CONFIG = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        for noisy in ("apscheduler", "alembic", "httpx"):
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grumble", description="Self-hosted review and social-media sentiment monitor."
    )
    parser.add_argument(
        "--config", "-c", help="path to grumble.toml (default: $GRUMBLE_CONFIG or ./grumble.toml)"
    )
    parser.add_argument("--database", help="database URL, overriding the config (e.g. sqlite:///x.db)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log debug detail")
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

    command("run", cmd_run, "Run the scheduler until SIGINT or SIGTERM.")

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
    imp.add_argument("--format", choices=["csv", "jsonl"], help="default: from the file's extension")
    imp.add_argument(
        "--source", help="source name to store them under (default: the file's 'source' column, else 'file')"
    )
    imp.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="map a field (id, text, author, url, created_at, rating, title, source) to another column",
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
    command("status", cmd_status, "Per source: last success, last error, mentions stored, pending scoring.")

    digest = command("digest", cmd_digest, "Print (--dry-run, the default) or send (--send) email digests.")
    digest_mode = digest.add_mutually_exclusive_group()
    digest_mode.add_argument("--dry-run", action="store_true", help="print what would be sent; send nothing")
    digest_mode.add_argument("--send", action="store_true", help="send now, unsent earlier digests first")
    digest.add_argument("--list", action="append", help="only this [[digests]] list (repeatable)")

    alerts = command("alerts", cmd_alerts, "Look for negative spikes, loud mentions and failing sources.")
    alerts.add_argument("--check", action="store_true", help="check now and send what is new")
    alerts.add_argument("--dry-run", action="store_true", help="with --check: print, record and send nothing")
    return parser


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config, database_url=args.database)


def cmd_init(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if path.exists() and not args.force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it")
    path.write_text(_example_config(), encoding="utf-8")
    print(f"wrote {path}: edit the watches, then run `grumble collect --once`")
    return 0


def _example_config() -> str:
    return resources.files("monitor").joinpath("example_config.toml").read_text(encoding="utf-8")


def cmd_collect(args: argparse.Namespace) -> int:
    from monitor.collect.run import collect
    from monitor.scheduler import Jobs, ModelHolder
    from monitor.score.run import load_model, score_pending

    config = _config(args)
    engine = connect(config.database_url)
    jobs = Jobs(config, engine, ModelHolder(lambda: load_model(config.model.name)))
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
            print(
                f"{watch.name}/{source_name}: {result.fetched} fetched, {result.kept} kept, {result.new} new"
            )
            for warning in result.warnings:
                print(f"{watch.name}/{source_name}: PARTLY FAILED: {warning}", file=sys.stderr)
            # Some mentions are missing: a cron wrapper must hear about it as it would a failure.
            failures += bool(result.warnings)
        else:
            failures += 1
            print(f"{watch.name}/{source_name}: FAILED: {result.error}", file=sys.stderr)
    if not args.no_score:
        scored = score_pending(engine, jobs.model.get(), batch_size=config.model.batch_size)
        print(f"scored {scored} mentions")
    return EXIT_ERROR if failures else 0


def cmd_score(args: argparse.Namespace) -> int:
    from monitor.score.run import load_model, score_pending

    config = _config(args)
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

    model = load_model(args.model or _config(args).model.name)
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


def cmd_import(args: argparse.Namespace) -> int:
    from monitor.sources.tabular import import_file

    config = _config(args)
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

    config = _config(args)
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


def cmd_status(args: argparse.Namespace) -> int:
    from monitor.store.collect_state import all_states
    from monitor.store.mentions import counts_by_source

    config = _config(args)
    engine = connect(config.database_url)
    counts = counts_by_source(engine)
    states = all_states(engine)
    print(f"database: {engine.url.render_as_string(hide_password=True)}")
    names = sorted({s.source for s in states} | set(counts) | {source for _, source in config.jobs()})
    if not names:
        print("no sources yet: add watches to the config, then run `grumble collect --once`")
        return 0
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
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from monitor.surface.notify import Notifier

    config = _config(args)
    if not config.digests:
        raise ConfigError(
            f"{config.path or 'configuration'}: no [[digests]] lists; add one (see `grumble init`)"
        )
    engine = connect(config.database_url)
    notifier = Notifier(config, engine)
    lists = [notifier.digest_list(name) for name in args.list] if args.list else list(config.digests)
    if not args.send:
        for digest_list in lists:
            digest = notifier.preview(digest_list)
            held = digest.quiet and not digest_list.send_when_quiet
            print(f"=== digest {digest_list.name!r} to {', '.join(digest.recipients)}")
            if held:
                print("(all quiet: nothing would be sent, send_when_quiet = false)")
            print(f"Subject: {digest.subject}\n")
            print(digest.text)
        return 0
    failed = 0
    try:
        for digest_list in lists:
            for outcome in notifier.run_digest(digest_list, force=True):
                if outcome.status in ("failed", "deferred"):
                    failed += 1
                    print(f"grumble: error: {outcome.describe()}", file=sys.stderr)
                else:
                    print(outcome.describe())
    finally:
        notifier.close()
    return EXIT_ERROR if failed else 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from monitor.surface.notify import Notifier

    if not args.check:
        raise GrumbleError("say what to do: `grumble alerts --check` (add --dry-run to only look)")
    config = _config(args)
    engine = connect(config.database_url)
    notifier = Notifier(config, engine)
    try:
        report = notifier.check_alerts(dry_run=args.dry_run, force=True)
    finally:
        notifier.close()
    if not report.new:
        print("no new alerts")
    for event in report.new:
        print(f"{'would alert' if args.dry_run else 'alert'}: {event.summary}")
    if report.new and not config.alerts.enabled:
        print("(nobody is told: set [alerts] recipients or webhook_url)")
    for message_id in report.sent:
        print(f"sent {message_id}")
    for message_id, error in report.failed:
        print(f"grumble: error: alert {message_id} not delivered, kept for retry: {error}", file=sys.stderr)
    return EXIT_ERROR if report.failed else 0


def _install_stop_handlers() -> threading.Event:
    stop = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return stop


def cmd_run(args: argparse.Namespace) -> int:
    from monitor.scheduler import build_scheduler, run_until_stopped

    config = _config(args)
    engine = connect(config.database_url)
    if not config.watches:
        raise ConfigError(f"{config.path or 'configuration'}: no [[watches]]; add one (see `grumble init`)")
    config.require_mail()
    stop = _install_stop_handlers()
    run_until_stopped(build_scheduler(config, engine), stop)
    print("scheduler stopped")
    return 0


def dashboard_command(config: Config) -> list[str]:
    # server.py wraps app.py in the sign-in gate; `streamlit run` finds its st.App and serves that.
    app = Path(str(resources.files("dashboard").joinpath("server.py")))
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.headless",
        "true",
        "--server.address",
        config.dashboard.host,
        "--server.port",
        str(config.dashboard.port),
        "--browser.gatherUsageStats",
        "false",
    ]


def _dashboard_env(config: Config) -> dict[str, str]:
    env = dict(os.environ)
    if config.path:
        env["GRUMBLE_CONFIG"] = str(config.path.resolve())
    env["GRUMBLE_DATABASE_URL"] = config.database_url
    return env


def cmd_dashboard(args: argparse.Namespace) -> int:
    config = _config(args)
    connect(config.database_url)
    print(f"dashboard: http://{config.dashboard.host}:{config.dashboard.port}", flush=True)
    command = dashboard_command(config)
    # This process becomes Streamlit: a SIGTERM (systemd, docker stop, a test) reaches the server
    # itself, instead of ending a parent and leaving Streamlit on its port.
    os.execve(command[0], command, _dashboard_env(config))


def cmd_up(args: argparse.Namespace) -> int:
    from monitor.collect.run import collect
    from monitor.scheduler import Jobs, ModelHolder, build_scheduler, run_until_stopped
    from monitor.score.run import load_model

    path = config_path(args.config) or DEFAULT_CONFIG_PATH
    if not path.exists():
        path.write_text(_example_config(), encoding="utf-8")
        print(f"wrote a starter config to {path}")
    config = load_config(path, database_url=args.database)
    config.require_mail()
    engine = connect(config.database_url)
    jobs = Jobs(config, engine, ModelHolder(lambda: load_model(config.model.name)))
    if not args.no_demo:
        for watch in config.watches:
            if "demo" in watch.sources:
                result = collect(engine, watch, jobs.source("demo"), force=True)
                print(f"demo data: {result.new} new mentions for watch {watch.name!r}")
    print("loading the sentiment model and scoring...")
    jobs.score()
    stop = _install_stop_handlers()
    dashboard: subprocess.Popen[bytes] | None = None
    if not args.no_dashboard:
        dashboard = subprocess.Popen(dashboard_command(config), env=_dashboard_env(config))
        print(f"\n  Grumble dashboard: http://{config.dashboard.host}:{config.dashboard.port}\n", flush=True)
    try:
        run_until_stopped(build_scheduler(config, engine, jobs), stop)
    finally:
        if dashboard is not None:
            dashboard.terminate()
            dashboard.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
