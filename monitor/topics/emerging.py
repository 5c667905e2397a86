"""The emerging-topic alert: a complaint topic that is new this period, or growing far faster than its
usual pace, with its name, size and examples. Delivered by the alert machinery (surface/alert_delivery.py)
like a spike: stored once under its key, mailed and posted to the webhook once.

A topic's last day is compared with its mean day over the `emerging_days` before (its mentions posted
then, as assigned now). It emerges when the last day has at least `emerging_min_count` of its mentions
and at least `emerging_ratio` times its mean (a topic with no history counts a mean of one a day). A
topic with no history that a refit made within the period is said to be new; one a refit split off a
steady topic has that topic's history, and is not news. Seen again while it goes on, it keeps its key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection

from monitor.config.topics import TopicSettings
from monitor.store import topics as store
from monitor.surface import render
from monitor.surface.alerts import AlertEvent

EMERGING = "emerging_topic"
DAY = timedelta(days=1)
EXAMPLES = 3


def emerging_topics(
    connection: Connection, watches: Sequence[str], settings: TopicSettings, now: datetime
) -> list[AlertEvent]:
    events = []
    period = DAY * settings.emerging_days
    for watch in watches:
        first = store.first_topic_at(connection, watch)
        if first is None:
            continue
        current = store.counts_between(connection, watch, now - DAY, now)
        before = store.counts_between(connection, watch, now - DAY - period, now - DAY)
        for topic in store.watch_topics(connection, watch):
            count = current.get(topic.id, 0)
            if count < settings.emerging_min_count:
                continue
            usual = before.get(topic.id, 0) / settings.emerging_days
            # A refit that only splits a steady topic makes a new one with history: it is not news.
            if count < settings.emerging_ratio * max(usual, 1.0):
                continue
            new = topic.created_at > first and now - topic.created_at <= period and usual == 0
            events.append(_event(connection, topic, count, usual, new, period, now))
    return events


def _event(
    connection: Connection,
    topic: store.Topic,
    count: int,
    usual: float,
    new: bool,
    period: timedelta,
    now: datetime,
) -> AlertEvent:
    last = store.last_alerted(connection, topic.id)
    ongoing = last is not None and now - last[1] <= period
    examples = store.examples(connection, topic.id, EXAMPLES)
    why = "a new topic" if new else f"usually {usual:.1f} a day"
    return AlertEvent(
        key=last[0] if ongoing and last else f"emerging:{topic.id}:{now:%Y%m%dT%H%M}",
        kind=EMERGING,
        summary=(
            f'Emerging complaint topic on {topic.watch}: "{topic.name}": {count} in the last day ({why}), '
            f"{topic.size} in all"
        ),
        due_at=now,
        watch=topic.watch,
        mention_id=int(examples[0]["id"]) if examples else None,
        details={
            "topic_id": topic.id,
            "name": topic.name,
            "size": topic.size,
            "count": count,
            "usual_per_day": round(usual, 2),
            "new": new,
            "examples": [render.shorten(e["text"] or "", 300) for e in examples],
            # The message shows `text` under the summary, as for a loud mention.
            "text": "\n".join(f"- {render.shorten(e['text'] or '', 200)}" for e in examples),
        },
    )
