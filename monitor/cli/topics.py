"""`grumble topics [--watch NAME] [--refit]`: each watch's complaint topics with their size and name,
fitted again first when asked; and a person's rename, merge or split of a topic."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from monitor.cli.common import config_of
from monitor.store.engine import connect

CLI_ACTOR = "grumble topics"


def add_topics_commands(
    command: Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser],
) -> None:
    topics = command(
        "topics",
        cmd_topics,
        "Each watch's complaint topics (why unhappy customers are unhappy) with size and name.",
    )
    topics.add_argument("--watch", action="append", help="only this watch (repeatable; default: every watch)")
    topics.add_argument("--refit", action="store_true", help="fit the topics again now, then print them")
    topics.add_argument(
        "--rename", nargs=2, metavar=("TOPIC_ID", "NAME"), help="name a topic (kept by refits)"
    )
    topics.add_argument("--merge", nargs=2, type=int, metavar=("TOPIC_ID", "INTO_ID"), help="merge a topic")
    topics.add_argument("--split", type=int, metavar="TOPIC_ID", help="split a topic in two")


def cmd_topics(args: argparse.Namespace) -> int:
    from monitor.topics import edits
    from monitor.topics.report import summaries

    config = config_of(args)
    engine = connect(config.database_url)
    watches = [config.watch(name) for name in args.watch] if args.watch else list(config.watches)
    if args.rename:
        topic_id = _topic_id(args.rename[0])
        edits.rename(engine, topic_id, args.rename[1], CLI_ACTOR)
        print(f"topic {topic_id} renamed")
    if args.merge:
        edits.merge(engine, args.merge[0], args.merge[1], CLI_ACTOR)
        print(f"topic {args.merge[0]} merged into {args.merge[1]}")
    if args.split is not None:
        new_id = edits.split(engine, args.split, CLI_ACTOR)
        print(f"topic {args.split} split; the new half is topic {new_id}")
    if args.refit:
        from monitor.topics.embed import load_embedder
        from monitor.topics.refit import refit_watch

        embedder = load_embedder()
        for watch in watches:
            print(refit_watch(engine, embedder, watch).describe())
    for watch in watches:
        found = summaries(engine, watch.name)
        if not found:
            print(f"{watch.name}: no topics yet (run `grumble topics --refit`)")
            continue
        print(f"{watch.name}: {len(found)} topics")
        for topic in found:
            print(f"  {topic.id:>5}  {topic.size:>6}  {topic.share:>4.0%}  {topic.trend:>6}  {topic.name}")
    return 0


def _topic_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SystemExit(
            f"grumble topics: a topic id is a number from `grumble topics`, not {text!r}"
        ) from None
