"""Build a digest: from the period's rows, the list's settings and a moment, a Digest value. Pure: no
database, no clock, no network; `digest_delivery.py` feeds it and sends what it returns.

The mentions are ranked by their priority at the digest's moment, read from the stored rank key as
the inbox reads it (monitor.ranking). The minimum priority is compared with a mention's priority when
it was collected, not at the digest's moment: freshness halves every 12 hours, so a weekly digest
judged at its own moment would drop almost everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.config import DigestList
from monitor.config.watches import competitor_watches
from monitor.mention import Watch
from monitor.ranking import priority_from_key
from monitor.store.cases import OverdueCase
from monitor.store.collect_state import CollectState
from monitor.surface import render
from monitor.surface.compare import Comparison
from monitor.surface.shares import Counts, points
from monitor.topics.report import PeriodTopic
from monitor.verdict import explain

MAX_OVERDUE_SHOWN = 20
TOP_TOPICS = 5  # "top complaint topics this period"
TEXT_LIMIT = 1500  # characters of a mention shown; the dashboard link has the rest


@dataclass(frozen=True)
class DigestEntry:
    """One mention, as much of it as a digest shows."""

    mention_id: int
    source: str
    text: str
    created_at: datetime
    collected_at: datetime
    author: str | None = None
    title: str | None = None
    url: str | None = None
    author_reach: int | None = None
    engagement: int | None = None
    rating: float | None = None
    negative: float | None = None
    neutral: float | None = None
    positive: float | None = None
    text_label: str | None = None
    label_basis: str | None = None
    language: str | None = None
    rank_key: float | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DigestEntry:
        return cls(
            mention_id=row["id"],
            source=row["source"],
            text=row["text"],
            created_at=row["created_at"],
            collected_at=row["collected_at"],
            author=row.get("author"),
            title=row.get("title"),
            url=row.get("url"),
            author_reach=row.get("author_reach"),
            engagement=row.get("engagement"),
            rating=row.get("rating"),
            negative=row.get("negative"),
            neutral=row.get("neutral"),
            positive=row.get("positive"),
            text_label=row.get("text_label"),
            label_basis=row.get("label_basis"),
            language=row.get("detected_language") or row.get("language"),
            rank_key=row.get("rank_key"),
        )

    def priority(self, now: datetime) -> float:
        return priority_from_key(self.rank_key, now)

    def priority_when_collected(self) -> float:
        return self.priority(max(self.collected_at, self.created_at))


@dataclass(frozen=True)
class Digest:
    list_name: str
    recipients: tuple[str, ...]
    period_start: datetime
    period_end: datetime
    subject: str
    text: str
    html: str
    # Every mention this digest reports, most urgent first: those written out, then those only
    # counted past the list's max_mentions. All are claimed, so none reappears in the next digest.
    mention_ids: tuple[int, ...]

    @property
    def quiet(self) -> bool:
        return not self.mention_ids


def competitors_left_out(digest_list: DigestList, watches: Sequence[Watch]) -> tuple[str, ...]:
    """The competitor watches whose own mentions this list does not get: all of them, unless the list
    says `include_competitors = true` or names the watch in its `watches`."""
    if digest_list.include_competitors:
        return ()
    return tuple(name for name in competitor_watches(watches) if name not in digest_list.watches)


def worth_sending(entries: Sequence[DigestEntry], min_priority: float) -> list[DigestEntry]:
    return [entry for entry in entries if entry.priority_when_collected() >= min_priority]


def rank(entries: Sequence[DigestEntry], now: datetime) -> list[DigestEntry]:
    # Ties (same score and audience, same minute) go to the older mention id: a stable order.
    return sorted(entries, key=lambda entry: (-entry.priority(now), entry.mention_id))


def _change(current: Counts, previous: Counts) -> dict[str, str]:
    delta = current.total - previous.total
    shares = (current.share, previous.share)
    share_delta = (
        f"{100 * (shares[0] - shares[1]):+.0f} points"
        if shares[0] is not None and shares[1] is not None
        else "-"
    )
    return {"total": f"{delta:+d}", "share": share_delta}


def _entry_view(
    entry: DigestEntry, position: int, now: datetime, digest_list: DigestList, public_url: str
) -> dict[str, Any]:
    details = []
    if entry.author_reach is not None:
        details.append(render.plural(entry.author_reach, "follower"))
    if entry.engagement is not None:
        details.append(render.plural(entry.engagement, "reaction"))  # the inbox's word for it
    if entry.rating is not None:
        details.append(f"rated {entry.rating:g}")
    return {
        "position": position,
        "source": entry.source,
        "author": entry.author or "unknown author",
        "reach": ", ".join(details) or "reach unknown",
        "age": render.age(entry.created_at, now),
        "posted": render.local_time(entry.created_at, digest_list.timezone),
        "title": render.shorten(entry.title, 300) if entry.title else None,
        "text": render.shorten(entry.text, TEXT_LIMIT),
        "negative": render.percent(entry.negative),
        "neutral": render.percent(entry.neutral),
        "positive": render.percent(entry.positive),
        "original": render.safe_link(entry.url),
        "link": render.mention_link(public_url, entry.mention_id),
        "why": explain(
            "negative",
            entry.text_label or "negative",
            entry.label_basis or "text",
            entry.language,
            entry.rating,
        ),
    }


def _failing_view(state: CollectState, digest_list: DigestList) -> dict[str, Any]:
    last_success = (
        render.local_time(state.last_success_at, digest_list.timezone) if state.last_success_at else "never"
    )
    if state.health == "failing":
        summary = f"{state.consecutive_failures} failures in a row, last worked {last_success}"
    else:
        summary = f"partly failing on its last run ({last_success})"
    return {
        "source": state.source,
        "watch": state.watch,
        "summary": summary,
        "last_error": render.shorten(state.problem, 300),
    }


def _overdue_view(case: OverdueCase, now: datetime, public_url: str) -> dict[str, Any]:
    return {
        "source": case.source,
        "author": case.author or "unknown author",
        "assignee": case.assignee or "nobody",
        "due": render.age(case.response_due_at, now),
        "text": render.shorten(case.text, 200),
        "dashboard_link": render.mention_link(public_url, case.mention_id),
    }


def _comparison_view(comparison: Comparison) -> dict[str, Any]:
    return {
        "brand": comparison.brand,
        "rows": [
            {
                "watch": row.watch,
                "is_brand": row.is_brand,
                "total": row.current.total,
                "change": f"{row.volume_change:+d}",
                "share_of_voice": render.percent(row.current.share_of_voice),
                "share_of_voice_change": points(row.share_of_voice_change),
                "negative_share": render.percent(row.current.negative_share),
                "negative_share_change": points(row.negative_share_change),
                "terms": ", ".join(term.term for term in row.terms) or "none",
            }
            for row in comparison.rows
        ],
    }


def _topic_view(topic: PeriodTopic, with_watch: bool) -> dict[str, Any]:
    return {
        "name": f"{topic.watch}: {topic.name}" if with_watch else topic.name,
        "count": topic.count,
        "change": "new" if topic.new or not topic.previous else f"{topic.count - topic.previous:+d}",
    }


def build_digest(
    digest_list: DigestList,
    entries: Sequence[DigestEntry],
    *,
    counts: Counts,
    previous: Counts,
    failing: Sequence[CollectState],
    period_start: datetime,
    now: datetime,
    public_url: str,
    overdue: Sequence[OverdueCase] = (),
    comparisons: Sequence[Comparison] = (),
    topics: Sequence[PeriodTopic] = (),
) -> Digest:
    """`entries` are the period's unclaimed negative mentions; those under the list's minimum
    priority are left out, the rest ranked most urgent first. `comparisons` (lists with
    include_comparison) add a share-of-voice section; they never make a quiet digest worth sending."""
    ranked = rank(worth_sending(entries, digest_list.min_priority), now)
    shown = ranked[: digest_list.max_mentions]
    failing_views = [_failing_view(state, digest_list) for state in failing]
    settings_url = render.digest_settings_link(public_url)
    title = f"Grumble {digest_list.every} digest ({digest_list.name})"
    if ranked:
        noun = "mention" if len(ranked) == 1 else "mentions"
        subject = f"{title}: {len(ranked)} new negative {noun}"
    else:
        subject = f"{title}: all quiet"
    if failing_views:
        names = sorted({view["source"] for view in failing_views})
        subject += f"; failing: {', '.join(names)}"
    if overdue:
        subject += f"; {len(overdue)} case{'s' if len(overdue) != 1 else ''} past the response target"
    context = {
        "list_name": digest_list.name,
        "every": digest_list.every,
        "watches": ", ".join(digest_list.watches) or "all watches",
        "period_start": render.local_time(period_start, digest_list.timezone),
        "period_end": render.local_time(now, digest_list.timezone),
        "failing": failing_views,
        "overdue": [_overdue_view(case, now, public_url) for case in overdue[:MAX_OVERDUE_SHOWN]],
        "overdue_count": len(overdue),
        # The subject's number, said again where the list starts: "posted this period" counts differently.
        "new_count": len(ranked),
        "counts": {
            "total": counts.total,
            "negative": counts.negative,
            "share": render.percent(counts.share),
        },
        "previous": {
            "total": previous.total,
            "negative": previous.negative,
            "share": render.percent(previous.share),
        },
        "change": _change(counts, previous),
        "comparisons": [_comparison_view(comparison) for comparison in comparisons],
        # Complaint topics (monitor/topics/): the busiest this period, and those first found in it.
        "topics": [_topic_view(topic, len(digest_list.watches) != 1) for topic in topics[:TOP_TOPICS]],
        "new_topics": [_topic_view(topic, len(digest_list.watches) != 1) for topic in topics if topic.new],
        "entries": [
            _entry_view(entry, position, now, digest_list, public_url)
            for position, entry in enumerate(shown, start=1)
        ],
        "more": len(ranked) - len(shown),
        "dashboard_url": public_url,
        "settings_url": settings_url,
        "unsubscribe_url": render.UNSUBSCRIBE_LINK_MARK,
        "subject": subject,
    }
    return Digest(
        list_name=digest_list.name,
        recipients=digest_list.recipients,
        period_start=period_start,
        period_end=now,
        subject=subject,
        text=render.render("digest.txt.j2", **context),
        html=render.render("digest.html.j2", **context),
        mention_ids=tuple(entry.mention_id for entry in ranked),
    )
