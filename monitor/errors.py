"""Every error Grumble raises on purpose, in one tree. Each message says what went wrong and how to fix it.

GrumbleError
├── ConfigError              grumble.toml or a GRUMBLE_* variable is wrong (names file, key, expected, found)
├── StoreError               the database cannot be opened, migrated or written
│   └── ClaimLost            a queued run's job was handed to another worker (this one was paused past
│                            its stall time): the run stops without writing, the new holder does the work
├── ImportFileError          an import file cannot be read at all (bad rows are reported, not raised)
├── ScoringError             the sentiment model cannot be loaded or run
├── TopicError               a complaint-topic edit that cannot be done (no such topic, another watch's)
├── UnknownSourceError       a source name that no module registers
├── CaseError                a case or reply action that cannot be done now; nothing was sent
│   ├── TemplateError        a reply template names an unknown placeholder, or one without a value
│   ├── ReplyTooLong         the text is over the source's limit, counted the way the source counts
│   ├── ApprovalError        approval rules: this reply waits for an approver, or this user may not approve
│   ├── ReplyStateError      the reply is not in a state for that (being posted, already posted, not approved)
│   │   └── DraftConflict    someone else saved another version of the draft since it was loaded: both
│   │                        texts are kept on the error (nothing was replaced)
│   └── NoReplyApi           the source cannot reply: copy the text, open the original, mark replied by hand
├── DeliveryError            a digest or alert was not delivered; it is kept and retried with backoff
│   ├── MailNotConfigured    no [smtp] host, or nobody to send to
│   ├── SmtpAuthError        the server refused the login: names the setting to fix
│   ├── SmtpTlsError         TLS or STARTTLS failed (certificate, protocol): names ca_file / security
│   ├── SmtpUnavailable      cannot reach the server, timeouts, 4xx answers: worth retrying soon
│   ├── SmtpRejected         the server refused the sender, every recipient or the message (5xx)
│   └── WebhookError         the alert webhook could not be reached or answered with an error
├── HelpdeskError            a hand-off to a helpdesk (monitor/helpdesk/) was not made: the helpdesk could
│   │                        not be reached, so nothing was created; it is tried again with backoff
│   ├── HelpdeskRejected     the helpdesk refused it (4xx: token, ids, payload): fix and send again
│   ├── HelpdeskUnconfirmed  it may have been created (timeout, 5xx, unreadable answer): the next
│   │                        attempt looks for it on the helpdesk before creating it again
│   └── HelpdeskBusy         another click or process is sending it now
└── SourceError              one fetch from one source failed; the cursor is kept, the job retries later
    ├── SourceAuthError      401/403: names the credential to fix
    ├── SourceNotFound       404: the subreddit, instance, app id or feed does not exist
    ├── SourceRateLimited    429: carries how long to wait (Retry-After, or backoff)
    ├── SourceUnavailable    timeouts, connection errors, 5xx
    ├── SourceResponseError  HTML where JSON was expected, malformed or partial JSON
    ├── StreamCursorTooOld   a live stream refused (or would silently skip from) our stored cursor: the
    │                        stream restarts live and the gap is backfilled over the source's REST API
    ├── ReplyRejected        the source refused a reply and did not publish it (thread locked or archived,
    │                        post deleted, text too long, rate limited): the draft is kept with the reason
    └── ReplyUnconfirmed     a reply may have been published but the source did not confirm it (timeout,
                             5xx, unreadable answer): the next attempt looks for it before posting again
"""

from __future__ import annotations


class GrumbleError(Exception):
    """Base of every error Grumble raises on purpose."""


class ConfigError(GrumbleError):
    pass


class StoreError(GrumbleError):
    pass


class ClaimLost(StoreError):
    pass


class ImportFileError(GrumbleError):
    pass


class ScoringError(GrumbleError):
    pass


class TopicError(GrumbleError):
    """A rename, merge or split of complaint topics that cannot be done; nothing was changed."""


class UnknownSourceError(GrumbleError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown source {name!r}; known sources: {', '.join(sorted(known))}")
        self.name = name


class SourceError(GrumbleError):
    """One fetch failed. `source` names the source so logs and `grumble status` say which."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.detail = message
        # A fetch over several listings (paging.fetch_streams) that failed in every one still learned
        # something worth keeping: how often each failed. The collector stores this cursor with the
        # failure, so a deep page that keeps failing is given up and page 1 is read again.
        self.cursor: str | None = None


class SourceAuthError(SourceError):
    pass


class SourceNotFound(SourceError):
    pass


class SourceRateLimited(SourceError):
    def __init__(self, source: str, message: str, retry_after: float) -> None:
        super().__init__(source, message)
        self.retry_after = retry_after


class SourceUnavailable(SourceError):
    pass


class SourceResponseError(SourceError):
    pass


class StreamCursorTooOld(SourceError):
    pass


class ReplyRejected(SourceError):
    """`reason` is one word for the dashboard and the audit trail: locked, archived, deleted, too_long,
    rate_limited, forbidden or rejected."""

    def __init__(self, source: str, message: str, reason: str = "rejected") -> None:
        super().__init__(source, message)
        self.reason = reason


class ReplyUnconfirmed(SourceError):
    pass


class CaseError(GrumbleError):
    pass


class TemplateError(CaseError):
    pass


class ReplyTooLong(CaseError):
    pass


class ApprovalError(CaseError):
    pass


class ReplyStateError(CaseError):
    pass


class DraftConflict(ReplyStateError):
    def __init__(self, message: str, yours: str, theirs: str, theirs_by: str, version: int) -> None:
        super().__init__(message)
        self.yours = yours
        self.theirs = theirs
        self.theirs_by = theirs_by
        self.version = version  # the version now stored: save on it to replace theirs on purpose


class NoReplyApi(CaseError):
    pass


class DeliveryError(GrumbleError):
    """Mail or a webhook post failed. `transient` says whether trying again soon may help."""

    transient = False


class MailNotConfigured(DeliveryError):
    pass


class SmtpAuthError(DeliveryError):
    pass


class SmtpTlsError(DeliveryError):
    pass


class SmtpUnavailable(DeliveryError):
    transient = True


class SmtpRejected(DeliveryError):
    pass


class WebhookError(DeliveryError):
    transient = True


class HelpdeskError(GrumbleError):
    """`helpdesk` names the helpdesk, so the case panel and the log say which."""

    def __init__(self, helpdesk: str, message: str) -> None:
        super().__init__(f"{helpdesk}: {message}")
        self.helpdesk = helpdesk


class HelpdeskRejected(HelpdeskError):
    pass


class HelpdeskUnconfirmed(HelpdeskError):
    pass


class HelpdeskBusy(HelpdeskError):
    pass
