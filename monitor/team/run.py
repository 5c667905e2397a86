"""The scheduled job (monitor/jobs.py `Jobs.notify_team`): the audit trail's news into people's For you
lists, then the emails that are due, then presence beats long expired forgotten. Safe to run in any
number of processes at once (fanout.py and email.py say why)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from monitor.config import Config
from monitor.mention import utcnow
from monitor.store.presence import forget_before
from monitor.surface.mail import Mailer
from monitor.team.email import EmailReport, NotificationMail
from monitor.team.fanout import fan_out
from monitor.team.presence import FORGET_AFTER


@dataclass(frozen=True)
class NewsReport:
    told: int  # notifications made now
    emails: EmailReport


class TeamNews:
    def __init__(
        self, config: Config, engine: Engine, mailer: Mailer | None, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.mail = NotificationMail(config, engine, mailer, clock=clock)

    def run(self, now: datetime | None = None) -> NewsReport:
        now = now or self.clock()
        told = fan_out(self.engine, self.config, now)
        emails = self.mail.send_due(now)
        forget_before(self.engine, now - FORGET_AFTER)
        return NewsReport(told, emails)
