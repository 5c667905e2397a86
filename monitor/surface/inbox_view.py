"""What the inbox is showing (its filters, order and layout) as one value, to and from a link's query.

The same value is what a saved view keeps (store/saved_views.py), so a shared link, a reload and a saved
view all reopen the inbox the same way. Parameters not at their default are the only ones in a link.
No Streamlit here.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from models.labels import LABELS
from monitor.store.filters import MentionFilter
from monitor.store.inbox import SORTS

# Link value -> (what the menu says, hours back; None for no limit).
TIME_RANGES: dict[str, tuple[str, int | None]] = {
    "any": ("any time", None),
    "1h": ("last hour", 1),
    "24h": ("last 24 hours", 24),
    "7d": ("last 7 days", 168),
    "30d": ("last 30 days", 720),
}
TRIAGE_VIEWS: dict[str, tuple[str, ...]] = {
    "unhandled": ("open",),
    "handled": ("handled",),
    "dismissed": ("dismissed",),
    "all": (),
}
LAYOUTS = ("cards", "compact")
ALL_LABELS = "all"  # in a link: no label filter (an empty list would read as "not given")


@dataclass(frozen=True)
class InboxView:
    search: str = ""
    watches: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    labels: tuple[str, ...] = ("negative",)
    show: str = "unhandled"
    period: str = "any"
    min_priority: float = 0.0
    sort: str = "priority"
    layout: str = "cards"

    def to_filter(self, now: datetime) -> MentionFilter:
        hours = TIME_RANGES[self.period][1]
        return MentionFilter(
            watches=self.watches,
            sources=self.sources,
            labels=self.labels,
            triage=TRIAGE_VIEWS[self.show],
            since=now - timedelta(hours=hours) if hours else None,
            search=self.search.strip() or None,
            min_priority=self.min_priority or None,
            now=now,
        )

    def to_params(self) -> dict[str, str | list[str]]:
        """The query of a link to this view: only what differs from the default inbox."""
        default = InboxView()
        params: dict[str, str | list[str]] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value == getattr(default, item.name):
                continue
            name = PARAMS[item.name]
            if item.name == "labels" and not value:
                params[name] = ALL_LABELS
            elif isinstance(value, tuple):
                params[name] = list(value)
            elif isinstance(value, float):
                params[name] = f"{value:g}"
            else:
                params[name] = str(value)
        return params


# Field -> its name in a link.
PARAMS = {
    "search": "q",
    "watches": "watch",
    "sources": "source",
    "labels": "label",
    "show": "show",
    "period": "period",
    "min_priority": "min",
    "sort": "sort",
    "layout": "view",
}


def _choice(options: Collection[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in options:
            raise ValueError(f"choose one of {', '.join(options)}")
        return value

    return check


def _priority(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError("give a number such as 1.5") from None
    if not number >= 0 or number == float("inf"):
        raise ValueError("give a number of 0 or more")
    return number


def from_params(
    params: Mapping[str, Sequence[str]], watches: Collection[str], sources: Collection[str]
) -> tuple[InboxView, list[str]]:
    """The view a link's query asks for, and a sentence for each value that could not be used (the
    default stands in for it). `watches` and `sources` are the ones that can be chosen."""
    changes: dict[str, Any] = {}
    problems: list[str] = []
    singles: dict[str, Callable[[str], Any]] = {
        "search": str,
        "show": _choice(TRIAGE_VIEWS),
        "period": _choice(TIME_RANGES),
        "min_priority": _priority,
        "sort": _choice(SORTS),
        "layout": _choice(LAYOUTS),
    }
    for name, parse in singles.items():
        values = params.get(PARAMS[name])
        if not values:
            continue
        try:
            changes[name] = parse(values[-1])
        except ValueError as exc:
            problems.append(f"Ignored {PARAMS[name]}={values[-1]!r} in the link: {exc}.")
    lists = {"watches": watches, "sources": sources, "labels": LABELS}
    for name, known in lists.items():
        values = list(params.get(PARAMS[name]) or [])
        if not values:
            continue
        if name == "labels" and values == [ALL_LABELS]:
            changes[name] = ()
            continue
        unknown = [value for value in values if value not in known]
        if unknown:
            problems.append(
                f"Ignored {PARAMS[name]}={', '.join(repr(v) for v in unknown)} in the link: "
                f"not one of {', '.join(known) or 'none yet'}."
            )
        kept = tuple(dict.fromkeys(value for value in values if value in known))
        if kept:  # none usable: the default, never "every label" by accident
            changes[name] = kept
    return replace(InboxView(), **changes), problems


def has_params(params: Collection[str]) -> bool:
    """Whether a query names any of the inbox's parameters."""
    return any(name in params for name in PARAMS.values())
