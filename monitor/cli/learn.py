"""`grumble learn` and `grumble model status|history|rollback`: a watch's calibration learned from its
corrections, what it is now, what it was, and undoing it."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from sqlalchemy import Engine

from monitor.cli.common import config_of
from monitor.config import Config
from monitor.store.engine import connect

CLI_ACTOR = "grumble learn"


def add_learn_commands(
    command: Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser],
) -> None:
    learn = command(
        "learn",
        cmd_learn,
        "Per watch, fit the model's class offsets on the team's corrections; activate them only if they "
        "beat the current ones on corrections held back without costing the multi-domain dev set.",
    )
    learn.add_argument("--watch", action="append", help="only this watch (repeatable; default: every watch)")
    learn.add_argument("--dry-run", action="store_true", help="fit and report; store and activate nothing")
    model = command(
        "model", cmd_model, "What each watch's model and calibration are, were, and undoing a change."
    )
    model.add_argument("action", choices=["status", "history", "rollback"])
    model.add_argument("--watch", action="append", help="only this watch (repeatable; rollback needs one)")


def _watches(config: Config, names: list[str] | None) -> list[str]:
    return [config.watch(name).name for name in names] if names else list(config.watch_names)


def cmd_learn(args: argparse.Namespace) -> int:
    from monitor.learn.describe import outcome_lines
    from monitor.learn.dev_check import probe
    from monitor.learn.run import learn_watch
    from monitor.score.run import load_model

    config = config_of(args)
    engine = connect(config.database_url)
    model = load_model(config.model.name)
    for watch in _watches(config, args.watch):
        outcome = learn_watch(
            engine,
            model,
            watch,
            config.learn,
            actor=CLI_ACTOR,
            dry_run=args.dry_run,
            probe=lambda: probe(model.version),
            batch_size=config.model.batch_size,
        )
        print("\n".join(outcome_lines(outcome)))
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    from monitor.learn.describe import calibration_line, headline
    from monitor.store.calibrations import active_calibration, history

    config = config_of(args)
    engine = connect(config.database_url)
    watches = _watches(config, args.watch)
    if args.action == "rollback":
        if len(watches) != 1:
            raise SystemExit("grumble model rollback: name the watch with --watch NAME")
        return _rollback(config, engine, watches[0])
    for watch in watches:
        if args.action == "status":
            current = active_calibration(engine, watch)
            if current is None:
                print(f"{watch}: the model as shipped, no calibration")
            else:
                print(f"{watch}: {calibration_line(current)}")
                print(f"  {headline(current.corrections, current.report)}")
        else:
            fitted, events = history(engine, watch)
            print(f"{watch}: {len(fitted)} calibration(s) fitted, {len(events)} change(s)")
            for calibration in fitted:
                print(f"  {calibration_line(calibration)}")
                print(f"    {calibration.reason}")
            for event in events:
                before = "shipped" if event.previous_id is None else f"#{event.previous_id}"
                after = "shipped" if event.calibration_id is None else f"#{event.calibration_id}"
                print(f"  {event.at:%Y-%m-%d %H:%M} {event.action} {before} -> {after} by {event.actor}")
    return 0


def _rollback(config: Config, engine: Engine, watch: str) -> int:
    from monitor.learn.run import rollback
    from monitor.score.run import load_model

    previous, target, rescored = rollback(engine, load_model(config.model.name), watch, CLI_ACTOR)
    now = "the model as shipped" if target is None else f"calibration #{target}"
    print(f"{watch}: rolled back from calibration #{previous} to {now}; {rescored} open mention(s) re-scored")
    return 0
