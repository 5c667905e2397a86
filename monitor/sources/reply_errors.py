"""A reply request's failure, told the same way for every store and network, so the posting machinery
(respond/posting.py) can act on it: the request may have landed (ReplyUnconfirmed: look on the source
before trying again), the post answered is gone (ReplyRejected "deleted"), or the server refused the
reply itself (ReplyRejected with the reason read from its answer). Sign-in and rate-limit errors pass
through as they are: the draft waits for new credentials or the next window."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from monitor.errors import (
    ReplyRejected,
    ReplyUnconfirmed,
    SourceNotFound,
    SourceResponseError,
    SourceUnavailable,
)
from monitor.sources.reply_text import refusal_reason


@contextmanager
def reply_request(source: str, what: str, *, server: str, landed: str, gone: str) -> Iterator[None]:
    """Around the one request that posts `what`. `server` names who refuses ("Google Play", "the
    instance"); `landed` says what may have happened after a timeout ("Apple may have taken the
    response"); `gone` says which post no longer exists."""
    try:
        yield
    except SourceUnavailable as exc:
        raise ReplyUnconfirmed(source, f"{exc.detail}; {landed}") from None
    except SourceNotFound as exc:
        raise ReplyRejected(source, f"{gone}: {exc.detail}", "deleted") from None
    except SourceResponseError as exc:
        raise ReplyRejected(
            source, f"{server} refused {what}: {exc.detail}", refusal_reason(exc.detail)
        ) from None
