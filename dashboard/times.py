"""Every time the dashboard shows, in the reader's time zone: theirs from [[users]], else [dashboard]."""

from __future__ import annotations

from datetime import datetime

from dashboard import context
from monitor.surface.render import TimePrecision, zoned_time


def reader_timezone() -> str:
    user = context.current_user()
    if user is not None and user.timezone:
        return user.timezone
    return context.config().dashboard.timezone


def shown_time(moment: datetime, precision: TimePrecision = "minute") -> str:
    """The one way a page writes a time: "2026-11-02 09:15 CET"."""
    return zoned_time(moment, reader_timezone(), precision)
