"""Notification emails, each sent exactly once as people see it, the way digests are
(monitor/surface/digest_delivery.py):

1. The row, with its Message-ID, is made once by the fan-out (fanout.py), "pending" or "off".
2. A sender takes one pending row under a lease naming its process (monitor/store/leases.py): two
   dashboard or worker processes running this at once never both hold it, and a holder that died is
   passed over at once. The preference is read again here, so turning a kind off also holds for an
   email waiting for its retry.
3. After the server takes it, the row is marked sent; a failure keeps it pending with a backoff.

The window SMTP cannot close is the digests' one: a crash after the server said 250 and before step 3
sends it again, under the same Message-ID.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from html import escape

from sqlalchemy import Engine

from monitor.backoff import Backoff
from monitor.config import Config
from monitor.errors import DeliveryError
from monitor.mention import utcnow
from monitor.store import leases
from monitor.store import notifications as store
from monitor.store.detail import get_mention
from monitor.surface.delivery import LEASE, RETRY
from monitor.surface.mail import Mailer, compose, require
from monitor.team.notifications import KINDS, sentence
from monitor.team.unsubscribe import notice_token, notice_unsubscribe_link

log = logging.getLogger(__name__)

EXCERPT_CHARS = 400


@dataclass
class EmailReport:
    sent: int = 0
    off: int = 0
    failed: list[str] = field(default_factory=list)


class NotificationMail:
    """Sends the pending notification emails through `mailer` (None without an [smtp] host: the
    fan-out then makes no pending ones)."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        mailer: Mailer | None,
        *,
        clock: Callable[[], datetime] = utcnow,
        retry: Backoff = RETRY,
    ) -> None:
        self.config = config
        self.engine = engine
        self.mailer = mailer
        self.clock = clock
        self.retry = retry

    def send_due(self, now: datetime | None = None) -> EmailReport:
        now = now or self.clock()
        report = EmailReport()
        for notice in store.due_emails(self.engine, now):
            with leases.holding(self.engine):
                if not store.lease_email(self.engine, notice.id, now, now + LEASE, leases.this_process()):
                    continue
                self._send(notice, now, report)
        return report

    def _send(self, notice: store.Notification, now: datetime, report: EmailReport) -> None:
        user = next((u for u in self.config.users if u.name == notice.recipient), None)
        with self.engine.connect() as connection:
            wanted = store.email_choices(connection, notice.recipient).get(notice.kind, True)
        if user is None or not user.email or not wanted:
            store.finish_email(self.engine, notice.id, store.OFF, None)
            report.off += 1
            return
        try:
            require(self.mailer).send(self._message(notice, user.email))
        except DeliveryError as exc:
            next_attempt = now + self.retry.delay(notice.email_attempts + 1)
            store.email_failed(self.engine, notice.id, str(exc), next_attempt)
            log.warning(
                "notification %d to %s not sent, retrying at %s: %s",
                notice.id,
                notice.recipient,
                next_attempt,
                exc,
            )
            report.failed.append(str(exc))
            return
        # The window SMTP cannot close is here: the server has it, the row does not say so yet.
        store.finish_email(self.engine, notice.id, store.SENT, self.clock())
        report.sent += 1

    def _message(self, notice: store.Notification, address: str) -> EmailMessage:
        assert notice.message_id is not None
        public_url = self.config.dashboard.public_url.rstrip("/")
        link = notice_unsubscribe_link(public_url, notice_token(self.engine, notice.recipient, notice.kind))
        said = sentence(notice.kind, notice.actor, notice.detail)
        mention = get_mention(self.engine, notice.mention_id) or {}
        excerpt = " ".join(str(mention.get("text") or "").split())[:EXCERPT_CHARS]
        about = f"{mention.get('author') or 'unknown author'} on {mention.get('source') or 'a source'}"
        detail = "" if notice.kind == "sent_back" or not notice.detail else notice.detail.strip()
        open_url = f"{public_url}/mention?id={notice.mention_id}"
        why = KINDS.get(notice.kind, notice.kind)
        text = "\n".join(
            [
                f"{said}.",
                *([f"\n{detail}"] if detail else []),
                f"\nThe mention, by {about}:\n  {excerpt}",
                f"\nOpen it: {open_url}",
                f"Everything waiting for you: {public_url}/for_you",
                f'\nYou get this email for "{why}" (your choices are on the For you page).',
                f"Stop emails like this: {link}",
            ]
        )
        html = "".join(
            [
                f"<p><strong>{escape(said)}</strong>.</p>",
                f"<p>{escape(detail)}</p>" if detail else "",
                f"<p>The mention, by {escape(about)}:</p><blockquote>{escape(excerpt)}</blockquote>",
                f'<p><a href="{escape(open_url)}">Open it</a> · ',
                f'<a href="{escape(public_url)}/for_you">Everything waiting for you</a></p>',
                f"<p>You get this email for &ldquo;{escape(why)}&rdquo;"
                " (your choices are on the For you page).",
                f' <a href="{escape(link)}">Stop emails like this</a>.</p>',
            ]
        )
        return compose(
            from_address=self.config.smtp.from_address,
            to=(address,),
            subject=f"Grumble: {said}",
            text=text,
            html=html,
            message_id=notice.message_id,
            date=notice.created_at,
            headers={
                "List-Id": "Grumble notifications <notifications.grumble.invalid>",
                "List-Unsubscribe": f"<{link}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
