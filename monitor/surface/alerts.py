"""Alerts: what is going wrong right now, as pure functions over counts and rows, and the message
that tells people about it.

- A negative spike: a watch's negative mentions in the last window against the same window on each
  of the previous days (the rule the Trends chart marks too: spikes.py).
- One loud unhappy customer: a mention whose priority (read from its stored rank key, as the inbox
  reads it) passes a threshold.
- A source failing for longer than a set time.

Every event has a key that names it for good: the mention, the failing source and when it last worked,
the watch and the minute a spike began. The store keeps each key once, so an event is alerted once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.config import AlertSettings
from monitor.ranking import priority_from_key
from monitor.store.alerts import StoredEvent
from monitor.store.collect_state import CollectState
from monitor.surface import render
from monitor.surface.spikes import spike_test

SPIKE = "spike"
LOUD = "loud_mention"
FAILING = "source_failing"

# Slack shows at most 50 blocks in one message.
WEBHOOK_MAX_EVENTS = 40


@dataclass(frozen=True)
class AlertEvent:
    key: str
    kind: str
    summary: str  # one line, plain text
    due_at: datetime  # when it may be sent: now, or once a source has failed long enough
    watch: str | None = None
    source: str | None = None
    mention_id: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)  # JSON-able, for the message


def detect_spike(
    watch: str,
    current: int,
    baseline: Sequence[int],
    settings: AlertSettings,
    now: datetime,
    last_spike: tuple[str, datetime] | None = None,
) -> AlertEvent | None:
    """A spike event for `watch`, or None. `last_spike` is the key and last sighting of the watch's
    latest spike: seen again within a window, it is the same spike going on, under the same key, so
    the checks every few minutes do not alert it again."""
    test = spike_test(current, baseline, settings)
    if test is None or not test.fired:
        return None
    window = timedelta(minutes=settings.spike_window_minutes)
    ongoing = last_spike is not None and now - last_spike[1] <= window
    minutes = f"{settings.spike_window_minutes:g}"
    return AlertEvent(
        key=last_spike[0] if ongoing and last_spike else f"spike:{watch}:{now:%Y%m%dT%H%M}",
        kind=SPIKE,
        summary=(
            f"Negative spike on {watch}: {current} negative mentions in the last {minutes} min, "
            f"usually {test.mean:.1f} at this time of day"
        ),
        due_at=now,
        watch=watch,
        details={
            "count": current,
            "baseline": list(baseline),
            "mean": round(test.mean, 2),
            "threshold": round(test.threshold, 2),
            "window_minutes": settings.spike_window_minutes,
            "window_end": now.isoformat(),
        },
    )


def loud_mentions(
    rows: Sequence[Mapping[str, Any]], settings: AlertSettings, now: datetime
) -> list[AlertEvent]:
    """Negative mentions whose priority now is at least the loud threshold, loudest first."""
    events = []
    for row in rows:
        if row.get("label") != "negative":
            continue
        value = priority_from_key(row.get("rank_key"), now)
        if value < settings.loud_priority:
            continue
        who = row.get("author") or "someone"
        # Why it is loud, in words; the number stays in the details for machines.
        audience = [f"{render.count(row['author_reach'])} followers"] if row.get("author_reach") else []
        audience += [render.plural(row["engagement"], "reaction")] if row.get("engagement") else []
        why = ", ".join(audience) or f"ranked above your loud_priority of {settings.loud_priority:g}"
        events.append(
            (
                value,
                AlertEvent(
                    key=f"loud:{row['id']}",
                    kind=LOUD,
                    summary=f"Loud unhappy customer on {row['source']}: {who} ({why})",
                    due_at=now,
                    source=row["source"],
                    mention_id=int(row["id"]),
                    details={
                        "priority": round(value, 2),
                        "author": row.get("author"),
                        "author_reach": row.get("author_reach"),
                        "engagement": row.get("engagement"),
                        "text": render.shorten(row.get("text") or "", 600),
                        "url": row.get("url"),
                        "created_at": row["created_at"].isoformat(),
                        "negative": row.get("negative"),
                    },
                ),
            )
        )
    return [event for _, event in sorted(events, key=lambda pair: (-pair[0], pair[1].key))]


def failing_sources(
    states: Sequence[CollectState], settings: AlertSettings, now: datetime
) -> list[AlertEvent]:
    """Every failing (watch, source), due once it has gone `source_failing_minutes` without a success.

    The key carries when the source last worked, so a source that recovers and fails again is a new
    event. One that never worked has no such time: its event is due that long after it was first seen
    failing (the store keeps the first sighting)."""
    limit = timedelta(minutes=settings.source_failing_minutes)
    events = []
    for state in states:
        if state.consecutive_failures <= 0:
            continue
        since = state.last_success_at
        events.append(
            AlertEvent(
                key=f"failing:{state.watch}:{state.source}:{since.isoformat() if since else 'never'}",
                kind=FAILING,
                summary=(
                    f"Source {state.source} failing for watch {state.watch}: "
                    f"{state.consecutive_failures} failures in a row"
                ),
                due_at=(since + limit) if since else (now + limit),
                watch=state.watch,
                source=state.source,
                details={
                    "failures": state.consecutive_failures,
                    "last_success_at": since.isoformat() if since else None,
                    "last_error": render.shorten(state.last_error or "unknown error", 500),
                    "failing_minutes": settings.source_failing_minutes,
                },
            )
        )
    return events


# The message: one for a whole batch of events.


@dataclass(frozen=True)
class AlertMessage:
    subject: str
    text: str
    html: str


KIND_TITLES = {SPIKE: "Negative spike", LOUD: "Loud unhappy customer", FAILING: "Source failing"}
# monitor/topics/emerging.py detects it (a topic new or growing far faster than usual).
KIND_TITLES["emerging_topic"] = "Emerging complaint topic"


def _event_view(event: StoredEvent, public_url: str) -> dict[str, Any]:
    details = event.payload or {}
    return {
        "kind": KIND_TITLES.get(event.kind, event.kind),
        "summary": event.summary,
        "text": details.get("text"),
        "original": render.safe_link(details.get("url")),
        "link": render.mention_link(public_url, event.mention_id) if event.mention_id else None,
        "last_error": details.get("last_error"),
    }


def alert_message(events: Sequence[StoredEvent], public_url: str) -> AlertMessage:
    if len(events) == 1:
        subject = f"Grumble alert: {events[0].summary}"
    else:
        kinds = sorted({KIND_TITLES.get(e.kind, e.kind).lower() for e in events})
        subject = f"Grumble: {len(events)} alerts ({', '.join(kinds)})"
    # A subject is one line; a summary carries an author name from the internet.
    subject = " ".join(subject.split())[:200]
    context = {
        "subject": subject,
        "events": [_event_view(event, public_url) for event in events],
        "dashboard_url": public_url,
    }
    return AlertMessage(
        subject=subject,
        text=render.render("alert.txt.j2", **context),
        html=render.render("alert.html.j2", **context),
    )


def slack_escape(text: str) -> str:
    """Slack's escaping: without it a mention's text could ping <!channel> or hide a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(events: Sequence[StoredEvent], public_url: str) -> dict[str, Any]:
    """Slack-compatible incoming-webhook JSON: `text` for every client, `blocks` for Slack's layout."""
    shown = events[:WEBHOOK_MAX_EVENTS]
    blocks: list[dict[str, Any]] = []
    lines = []
    for event in shown:
        view = _event_view(event, public_url)
        line = f"*{slack_escape(view['kind'])}*: {slack_escape(event.summary)}"
        if view["text"]:
            line += "\n> " + slack_escape(render.shorten(view["text"], 300)).replace("\n", "\n> ")
        if view["link"]:
            line += f"\n<{view['link']}|Open in Grumble>"
        lines.append(line)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": line[:2900]}})
    if len(events) > len(shown):
        more = f"and {len(events) - len(shown)} more: <{public_url}|open Grumble>"
        lines.append(more)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": more}})
    title = f"Grumble: {len(events)} alert{'s' if len(events) != 1 else ''}"
    return {"text": title + "\n" + "\n".join(lines), "blocks": blocks}
