"""A digest's slot: the scheduled occurrence a digest run belongs to, the key that makes it sent once.

`digest_runs` is unique on (list, slot), so however many processes build a list's digest for one
occurrence (the scheduler on two machines, a person typing `grumble digest --send` meanwhile), one
run exists and only its creator mails it; the others find it and step aside.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.config import WEEKDAYS, DigestList


def digest_slot(digest_list: DigestList, now: datetime) -> datetime:
    """The latest scheduled occurrence of the list at or before `now`, in UTC.

    Hourly lists occur every hour at `at`'s minute, daily ones every day at `at`, weekly ones on
    `weekday` at `at`, all in the list's time zone (so 08:00 in Berlin stays 08:00 across DST).

    The scheduler runs a digest at its occurrence, so its `now` falls in that occurrence's slot even
    when the job starts late. A forced send (`grumble digest --send`) gets the same meaning, the
    latest occurrence at or before now, because that is what a person asks for: the digest that is
    due. If the scheduler already sent it, the person's send is that digest again and must not mail
    twice; if the scheduler was down, the person's send stands in for it and the scheduler, coming
    back within the slot, finds it done. Nothing is lost by refusing a second digest in one slot: the
    next slot's digest starts where the last one ended and carries whatever came since.
    """
    zone = ZoneInfo(digest_list.timezone)
    local = now.astimezone(zone)
    if digest_list.every == "hourly":
        return _hourly(local, digest_list.at.minute)
    candidate = datetime.combine(local.date(), digest_list.at, tzinfo=zone)
    if digest_list.every == "weekly":
        days_since = (local.weekday() - WEEKDAYS.index(digest_list.weekday)) % 7
        candidate = datetime.combine(local.date() - timedelta(days=days_since), digest_list.at, tzinfo=zone)
        step = timedelta(days=7)
    else:
        step = timedelta(days=1)
    if candidate > local:
        # Step back in local dates, not in elapsed time, so a DST change does not shift the hour.
        candidate = datetime.combine(candidate.date() - step, digest_list.at, tzinfo=zone)
    return candidate.astimezone(UTC)


def _hourly(local: datetime, minute: int) -> datetime:
    # Whole hours in UTC: every zone's hour boundaries fall on UTC hour boundaries plus a fixed minute
    # offset, so stepping back an elapsed hour is the previous occurrence even across a DST change.
    candidate = local.replace(minute=minute, second=0, microsecond=0).astimezone(UTC)
    if candidate > local:
        candidate -= timedelta(hours=1)
    return candidate
