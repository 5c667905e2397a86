"""`grumble init`, `up` and `dashboard`: set Grumble up and keep it running (`run`, `worker`: workers.py).

This module stands on workers.py (`up` runs what `run` runs), never the other way round."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

from monitor.cli.common import config_of, example_config
from monitor.cli.workers import install_stop_handlers, run_scaled_out
from monitor.config import DEFAULT_CONFIG_PATH, Config, config_path, load_config
from monitor.errors import ConfigError
from monitor.store.engine import connect

log = logging.getLogger("grumble")


def cmd_init(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if path.exists() and not args.force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it")
    path.write_text(example_config(), encoding="utf-8")
    print(f"wrote {path}: edit the watches, then run `grumble collect --once`")
    return 0


def dashboard_command(config: Config) -> list[str]:
    # server.py wraps app.py in the sign-in gate; `streamlit run` finds its st.App and serves that.
    # Streamlit's own settings (no usage statistics, no Deploy button) are in dashboard/.streamlit.
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
    ]


def dashboard_env(config: Config) -> dict[str, str]:
    env = dict(os.environ)
    if config.path:
        env["GRUMBLE_CONFIG"] = str(config.path.resolve())
    env["GRUMBLE_DATABASE_URL"] = config.database_url
    # Uvicorn (under Streamlit) believes X-Forwarded-For from loopback by default, so any local client
    # could name its own address; only the configured proxies are believed (none: the socket's address).
    env["FORWARDED_ALLOW_IPS"] = ",".join(config.dashboard.trusted_proxies)
    return env


def cmd_dashboard(args: argparse.Namespace) -> int:
    config = config_of(args)
    connect(config.database_url)
    print(f"dashboard: http://{config.dashboard.host}:{config.dashboard.port}", flush=True)
    command = dashboard_command(config)
    # This process becomes Streamlit: a SIGTERM (systemd, docker stop, a test) reaches the server
    # itself, instead of ending a parent and leaving Streamlit on its port.
    os.execve(command[0], command, dashboard_env(config))


def cmd_up(args: argparse.Namespace) -> int:
    from monitor.collect.run import collect
    from monitor.jobs import Jobs
    from monitor.queue.app import uses_queue
    from monitor.scheduler import build_scheduler, run_until_stopped

    path = config_path(args.config) or DEFAULT_CONFIG_PATH
    if not path.exists():
        path.write_text(example_config(), encoding="utf-8")
        print(f"wrote a starter config to {path}")
    config = load_config(path, database_url=args.database)
    config.require_mail()
    engine = connect(config.database_url)
    jobs = Jobs.for_config(config, engine)
    if not args.no_demo:
        for watch in config.watches:
            if "demo" in watch.sources:
                result = collect(engine, watch, jobs.source("demo"), force=True)
                print(f"demo data: {result.new} new mentions for watch {watch.name!r}")
    print("loading the sentiment model and scoring...")
    try:
        jobs.score()
    except Exception:
        # The scheduler's scoring job tries again within minutes: the dashboard and the collectors
        # start anyway, as the inbox is worth opening before every mention is scored.
        log.exception("scoring failed; the scheduler will try again")
    stop = install_stop_handlers()
    dashboard: subprocess.Popen[bytes] | None = None
    if not args.no_dashboard:
        dashboard = subprocess.Popen(dashboard_command(config), env=dashboard_env(config))
        print(f"\n  Grumble dashboard: http://{config.dashboard.host}:{config.dashboard.port}\n", flush=True)
    try:
        if uses_queue(config.database_url):
            run_scaled_out(config, engine, stop, with_worker=True, metrics_port=None, jobs=jobs)
        else:
            from monitor.streams.host import streams_beside

            with streams_beside(config, engine, jobs.source, jobs.score):
                run_until_stopped(build_scheduler(config, engine, jobs), stop)
    finally:
        if dashboard is not None:
            dashboard.terminate()
            dashboard.wait(timeout=20)
    return 0
