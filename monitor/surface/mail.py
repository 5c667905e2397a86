"""Send mail over SMTP: STARTTLS, implicit TLS or plain, with an optional login.

Transient failures (the server is unreachable, a timeout, a 4xx answer) are tried again with backoff
(monitor.backoff), up to `[smtp] max_attempts`; every failure ends as a DeliveryError whose message
names what to fix. Whoever calls `send` keeps the message for a later retry when it raises: nothing
is dropped here.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from monitor.backoff import Backoff
from monitor.config import SmtpSettings
from monitor.errors import (
    DeliveryError,
    MailNotConfigured,
    SmtpAuthError,
    SmtpRejected,
    SmtpTlsError,
    SmtpUnavailable,
)

log = logging.getLogger(__name__)

# The default policy folds headers at 78 characters and, to fold a word longer than that (a signed
# unsubscribe link), writes it as an RFC 2047 encoded word ("=?utf-8?q?=3Chttps..."), which mail
# clients do not read as a List-Unsubscribe URL: no one-click unsubscribe. RFC 5322's hard limit is 998.
MAIL_POLICY = policy.default.clone(max_line_length=998)

# Within one send: 1, 2, 4, ... seconds between attempts, at most 30. Longer outages are the caller's
# to wait out (a digest or alert batch is kept and retried minutes later).
SEND_BACKOFF = Backoff(base=timedelta(seconds=1), cap=timedelta(seconds=30))
NOT_CONFIGURED = "no SMTP server configured: set [smtp] host (or GRUMBLE_SMTP_HOST) to send mail"


def new_message_id(kind: str, key: str | int, from_address: str) -> str:
    """A Message-ID for something we may send more than once: made once, stored with the intent to
    send, and used for every attempt, so a mail server or client sees a re-send as the same message.
    The random part keeps two Grumble installations (a test and a live one) from colliding."""
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "grumble.invalid"
    safe_key = re.sub(r"[^A-Za-z0-9.-]+", "-", str(key)).strip("-") or "x"
    return f"<grumble.{kind}.{safe_key}.{secrets.token_hex(6)}@{domain}>"


def recipient_message_id(message_id: str, recipient: str) -> str:
    """The Message-ID of one recipient's copy of a message sent to each recipient separately: the
    same for every attempt, different for each recipient (they are different messages)."""
    local, _, domain = message_id.strip("<>").rpartition("@")
    tag = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:12]
    return f"<{local}.{tag}@{domain}>"


def compose(
    *,
    from_address: str,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str,
    message_id: str,
    date: datetime,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A multipart/alternative message: the text part first, the HTML part preferred by clients."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = from_address
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    # Vacation responders and ticket systems do not answer mail marked as automatic.
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def mailer_for(settings: SmtpSettings) -> Mailer | None:
    """The configured server's mailer, or None without an [smtp] host: whoever sends through it then
    fails with MailNotConfigured (`require`), and keeps what it meant to send for a retry."""
    return Mailer(settings) if settings.host else None


def require(mailer: Mailer | None) -> Mailer:
    if mailer is None:
        raise MailNotConfigured(NOT_CONFIGURED)
    return mailer


class Mailer:
    """One configured SMTP server. `ssl_context` replaces the default one (tests pass one that trusts
    their own certificate); `sleep` and `backoff` are injected so tests of the backoff do not wait."""

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        ssl_context: ssl.SSLContext | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Backoff = SEND_BACKOFF,
    ) -> None:
        if not settings.host:
            raise MailNotConfigured(NOT_CONFIGURED)
        self.settings = settings
        self._ssl_context = ssl_context
        self._sleep = sleep
        self._backoff = backoff

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def send(self, message: EmailMessage) -> None:
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                self._send_once(message)
                return
            except DeliveryError as exc:
                if not exc.transient or attempt == attempts:
                    raise
                delay = self._backoff.delay(attempt).total_seconds()
                log.warning(
                    "sending mail failed (attempt %d of %d), retrying in %.1fs: %s",
                    attempt,
                    attempts,
                    delay,
                    exc,
                )
                self._sleep(delay)

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is not None:
            return self._ssl_context
        context = ssl.create_default_context()
        if self.settings.ca_file:
            try:
                context.load_verify_locations(cafile=self.settings.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise SmtpTlsError(f"cannot load [smtp] ca_file {self.settings.ca_file!r}: {exc}") from None
        return context

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.host is not None
        try:
            if s.security == "tls":
                return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=self._context())
            return smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        except ssl.SSLError as exc:
            raise self._tls_error(exc) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise self._unreachable(exc) from None

    def _send_once(self, message: EmailMessage) -> None:
        s = self.settings
        client = self._connect()
        try:
            client.ehlo()
            if s.security == "starttls":
                if not client.has_extn("starttls"):
                    raise SmtpTlsError(
                        f'SMTP server {self.where} does not offer STARTTLS: set [smtp] security = "tls" '
                        'if it expects TLS from the start (usually port 465), or "none" on a trusted network'
                    )
                client.starttls(context=self._context())
                client.ehlo()
            if s.username:
                self._login(client)
            refused = client.send_message(message)
            if refused:
                log.warning("mail %s: the server refused some recipients: %s", message["Message-ID"], refused)
        except DeliveryError:
            raise
        except ssl.SSLError as exc:
            raise self._tls_error(exc) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            detail = "; ".join(
                f"{rcpt}: {code} {_text(reply)}" for rcpt, (code, reply) in exc.recipients.items()
            )
            if all(400 <= code < 500 for code in codes):
                raise SmtpUnavailable(
                    f"SMTP server {self.where} deferred every recipient: {detail}"
                ) from None
            raise SmtpRejected(
                f"SMTP server {self.where} refused every recipient: {detail}; "
                "check the recipients in the config"
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            error = SmtpUnavailable if 400 <= exc.smtp_code < 500 else SmtpRejected
            raise error(
                f"SMTP server {self.where} refused the sender {exc.sender}: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}; "
                "set [smtp] from_address to an address this account may send as"
            ) from None
        except smtplib.SMTPResponseException as exc:
            error = SmtpUnavailable if 400 <= exc.smtp_code < 500 else SmtpRejected
            raise error(
                f"SMTP server {self.where} answered {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise self._unreachable(exc) from None
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()

    def _login(self, client: smtplib.SMTP) -> None:
        s = self.settings
        assert s.username is not None
        try:
            client.login(s.username, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise SmtpAuthError(
                f"SMTP login refused by {self.where} for user {s.username}: "
                f"set GRUMBLE_SMTP_PASSWORD or [smtp] password ({exc.smtp_code} {_text(exc.smtp_error)})"
            ) from None
        except smtplib.SMTPNotSupportedError:
            hint = (
                'set [smtp] security = "starttls" or "tls": servers offer login only over TLS'
                if s.security == "none"
                else "remove [smtp] username if this server needs no login"
            )
            raise SmtpAuthError(f"SMTP server {self.where} offers no login (AUTH): {hint}") from None

    def _unreachable(self, exc: BaseException) -> SmtpUnavailable:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return SmtpUnavailable(
            f"cannot reach SMTP server {self.where}: {reason}; check [smtp] host and port "
            "(or GRUMBLE_SMTP_HOST and GRUMBLE_SMTP_PORT) and that the server is running"
        )

    def _tls_error(self, exc: ssl.SSLError) -> SmtpTlsError:
        reason = getattr(exc, "verify_message", None) or exc.reason or str(exc)
        if isinstance(exc, ssl.SSLCertVerificationError):
            hint = "set [smtp] ca_file to the CA that signed the server's certificate, or fix the certificate"
        else:
            hint = 'check [smtp] security and port: "tls" is usually port 465, "starttls" port 587'
        return SmtpTlsError(f"TLS with SMTP server {self.where} failed: {reason}; {hint}")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
