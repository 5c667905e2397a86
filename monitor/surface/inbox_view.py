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
from monitor.store.cases import CASE_STATUSES
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
# Whom a mention's case is assigned to: these words, or a person's name.
ASSIGNEES: dict[str, str] = {
    "": "anyone or nobody",
    "me": "me",
    "unassigned": "nobody",
    "assigned": "someone",
}
MAX_TAGS_IN_LINK = 20  # a link's tags past these are left out
MAX_TAG_CHARS = 60


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
    assignee: str = ""  # one of ASSIGNEES, or a person's name
    case_statuses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    overdue: bool = False
    awaiting_my_approval: bool = False
    competitors: bool = False  # include mentions only competitor watches matched
    topics: tuple[str, ...] = ()  # complaint topic ids (monitor/topics/), as a link carries them

    def to_filter(
        self,
        now: datetime,
        me: str | None = None,
        competitor_watches: Sequence[str] = (),
        me_as: Sequence[str] = (),
    ) -> MentionFilter:
        """The filter at `now` for the signed-in person `me` (for "assigned to me" and "waiting for my
        approval"; `me_as`: the roles a reply's approver may name them by, "role:admin"); mentions that
        only `competitor_watches` matched stay out unless the view asks."""
        if me is None and (self.assignee == "me" or self.awaiting_my_approval):
            raise ValueError("a view of “my” mentions needs the signed-in person")
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
            assignee=me if self.assignee == "me" else (None if self.assignee in ASSIGNEES else self.assignee),
            assigned={"unassigned": False, "assigned": True}.get(self.assignee),
            case_statuses=self.case_statuses,
            tags=self.tags,
            overdue=self.overdue,
            approver=me if self.awaiting_my_approval else None,
            approver_as=tuple(me_as) if self.awaiting_my_approval else (),
            exclude_watches=() if self.competitors else tuple(competitor_watches),
            topics=tuple(int(topic) for topic in self.topics),
        )

    def to_params(self) -> dict[str, str | list[str]]:
        """The query of a link to this view: only what differs from the default inbox."""
        default = InboxView()
        params: dict[str, str | list[str]] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value == getattr(default, item.name):
                continue
            name = FIELDS[item.name].link
            if item.name == "labels" and not value:
                params[name] = ALL_LABELS
            elif isinstance(value, tuple):
                params[name] = list(value)
            elif isinstance(value, bool):
                params[name] = "1" if value else "0"
            elif isinstance(value, float):
                params[name] = f"{value:g}"
            else:
                params[name] = str(value)
        return params


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


def _yes_no(value: str) -> bool:
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise ValueError("give 1 (yes) or 0 (no)")


def _person(value: str) -> str:
    name = " ".join(value.split())
    if not name or len(name) > 128:
        raise ValueError(f"give {', '.join(repr(word) for word in ASSIGNEES if word)} or a person's name")
    return name


def _tag(value: str) -> str:
    tag = " ".join(value.split())
    if not tag or len(tag) > MAX_TAG_CHARS:
        raise ValueError(f"give a tag of 1 to {MAX_TAG_CHARS} characters")
    return tag


def _topic_id(value: str) -> str:
    if not value.strip().isdigit():
        raise ValueError("give a topic's number (the Topics page and `grumble topics` list them)")
    return str(int(value))


@dataclass(frozen=True)
class Setting:
    """One thing the inbox view holds: its name in a link, the key of the widget that sets it, and how
    a link's value is read. For a list, `read` checks one item; `choices` names the run-time set the
    items must come from ("watches", "sources", "labels", "case statuses"), or None for free text."""

    link: str
    widget: str
    read: Callable[[str], Any]
    choices: str | None = None


# InboxView field -> its setting: the one table a new filter is added to (with its field and widget).
FIELDS: dict[str, Setting] = {
    "search": Setting("q", "f_search", str),
    "watches": Setting("watch", "f_watch", str, "watches"),
    "sources": Setting("source", "f_source", str, "sources"),
    "labels": Setting("label", "f_label", str, "labels"),
    "show": Setting("show", "f_triage", _choice(TRIAGE_VIEWS)),
    "period": Setting("period", "f_period", _choice(TIME_RANGES)),
    "min_priority": Setting("min", "f_priority", _priority),
    "sort": Setting("sort", "f_sort", _choice(SORTS)),
    "layout": Setting("view", "f_layout", _choice(LAYOUTS)),
    "assignee": Setting("assignee", "f_assignee", _person),
    "case_statuses": Setting("case", "f_case_status", str, "case statuses"),
    "tags": Setting("tag", "f_tag", _tag),
    "overdue": Setting("overdue", "f_overdue", _yes_no),
    "awaiting_my_approval": Setting("approval", "f_approval", _yes_no),
    "competitors": Setting("competitors", "f_competitors", _yes_no),
    "topics": Setting("topic", "f_topic", _topic_id),
}
# Field -> its name in a link (bench/ reads it).
PARAMS = {name: setting.link for name, setting in FIELDS.items()}
LIST_FIELDS = tuple(item.name for item in fields(InboxView) if isinstance(item.default, tuple))


def from_params(
    params: Mapping[str, Sequence[str]],
    watches: Collection[str],
    sources: Collection[str],
    people: Collection[str] | None = None,
) -> tuple[InboxView, list[str]]:
    """The view a link's query asks for, and a sentence for each value that could not be used (the
    default stands in for it). `watches` and `sources` are the ones that can be chosen; `people`, when
    known, the names a view may be assigned to."""
    changes: dict[str, Any] = {}
    problems: list[str] = []
    for name, setting in FIELDS.items():
        values = params.get(setting.link)
        if name in LIST_FIELDS or not values:
            continue
        try:
            changes[name] = setting.read(values[-1])
        except ValueError as exc:
            problems.append(f"Ignored {setting.link}={values[-1]!r} in the link: {exc}.")
    person = changes.get("assignee")
    if person not in (None, *ASSIGNEES) and people is not None and person not in people:
        problems.append(
            f"Ignored assignee={person!r} in the link: not one of "
            f"{', '.join([*(word for word in ASSIGNEES if word), *sorted(people)])}."
        )
        del changes["assignee"]
    known: dict[str, Collection[str]] = {
        "watches": watches,
        "sources": sources,
        "labels": LABELS,
        "case statuses": CASE_STATUSES,
    }
    for name in LIST_FIELDS:
        setting = FIELDS[name]
        values = list(params.get(setting.link) or [])
        if not values:
            continue
        if name == "labels" and values == [ALL_LABELS]:
            changes[name] = ()
            continue
        if setting.choices is None:
            kept = []
            for value in values[:MAX_TAGS_IN_LINK]:
                try:
                    kept.append(setting.read(value))
                except ValueError as exc:
                    problems.append(f"Ignored {setting.link}={value!r} in the link: {exc}.")
        else:
            choices = known[setting.choices]
            unknown = [value for value in values if value not in choices]
            if unknown:
                problems.append(
                    f"Ignored {setting.link}={', '.join(repr(v) for v in unknown)} in the link: "
                    f"not one of {', '.join(choices) or 'none yet'}."
                )
            kept = [value for value in values if value in choices]
        if kept:  # none usable: the default, never "every label" by accident
            changes[name] = tuple(dict.fromkeys(kept))
    return replace(InboxView(), **changes), problems


@dataclass(frozen=True)
class Queue:
    """A team queue: a view the sidebar opens with one click, with how many mentions it holds."""

    key: str
    title: str
    changes: dict[str, Any]
    approvers_only: bool = False

    def view(self, keep: InboxView) -> InboxView:
        """The queue's view, keeping the order and layout of the view shown (`keep`)."""
        return replace(InboxView(sort=keep.sort, layout=keep.layout), **self.changes)


QUEUES = (
    Queue("mine", "Assigned to me", {"assignee": "me"}),
    Queue("unassigned", "Unassigned", {"assignee": "unassigned"}),
    Queue("overdue", "Overdue", {"overdue": True}),
    # A reply may answer any mention, so every label, and whatever its triage says.
    Queue(
        "approval",
        "Waiting for my approval",
        {"awaiting_my_approval": True, "labels": (), "show": "all"},
        True,
    ),
)


def has_params(params: Collection[str]) -> bool:
    """Whether a query names any of the inbox's parameters."""
    return any(name in params for name in PARAMS.values())
