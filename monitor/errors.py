"""Every error Grumble raises on purpose, in one tree. Each message says what went wrong and how to fix it.

GrumbleError
├── ConfigError              grumble.toml or a GRUMBLE_* variable is wrong (names file, key, expected, found)
├── StoreError               the database cannot be opened, migrated or written
├── ImportFileError          an import file cannot be read at all (bad rows are reported, not raised)
├── ScoringError             the sentiment model cannot be loaded or run
├── UnknownSourceError       a source name that no module registers
├── DeliveryError            a digest or alert was not delivered; it is kept and retried with backoff
│   ├── MailNotConfigured    no [smtp] host, or nobody to send to
│   ├── SmtpAuthError        the server refused the login: names the setting to fix
│   ├── SmtpTlsError         TLS or STARTTLS failed (certificate, protocol): names ca_file / security
│   ├── SmtpUnavailable      cannot reach the server, timeouts, 4xx answers: worth retrying soon
│   ├── SmtpRejected         the server refused the sender, every recipient or the message (5xx)
│   └── WebhookError         the alert webhook could not be reached or answered with an error
└── SourceError              one fetch from one source failed; the cursor is kept, the job retries later
    ├── SourceAuthError      401/403: names the credential to fix
    ├── SourceNotFound       404: the subreddit, instance, app id or feed does not exist
    ├── SourceRateLimited    429: carries how long to wait (Retry-After, or backoff)
    ├── SourceUnavailable    timeouts, connection errors, 5xx
    └── SourceResponseError  HTML where JSON was expected, malformed or partial JSON
"""

from __future__ import annotations


class GrumbleError(Exception):
    """Base of every error Grumble raises on purpose."""


class ConfigError(GrumbleError):
    pass


class StoreError(GrumbleError):
    pass


class ImportFileError(GrumbleError):
    pass


class ScoringError(GrumbleError):
    pass


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
