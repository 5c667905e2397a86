"""The PRAW client Grumble talks to Reddit through, and the requestor under it that applies the
operator's timeout and keeps a reply's POST from going out twice."""

from __future__ import annotations

import threading
from typing import Any

import praw
import prawcore
import requests
from praw.exceptions import PRAWException
from prawcore import exceptions as core

from monitor.errors import SourceAuthError
from monitor.sources.base import USER_AGENT, SourceSettings
from monitor.sources.http import credential_hint
from monitor.sources.text import as_str

NAME = "reddit"
DEFAULT_OAUTH_URL = "https://oauth.reddit.com"
DEFAULT_REDDIT_URL = "https://www.reddit.com"
AUTH_HINT = credential_hint(
    NAME,
    "client_id",
    "client_secret",
    extra="they belong to a 'script' app from https://www.reddit.com/prefs/apps; with a user login also "
    "check GRUMBLE_REDDIT_USERNAME and GRUMBLE_REDDIT_PASSWORD",
)


# This thread's exchange with Reddit: `response`, the last HTTP response, for errors that arrive without
# it (a token answer that is not JSON surfaces as a bare ValueError), so the message can quote what the
# server sent; `guard`, the PostGuard while a reply is being sent.
exchange = threading.local()


class NotResent(Exception):
    """The reply POST was about to be sent again after an attempt with no definite answer."""


class PostGuard:
    """While set for a thread, the comment POST goes out again only after an answer saying it was not
    posted (any answer below 500: a 401 that prawcore refreshes the token for, a RATELIMIT PRAW waits)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sent = False
        self.definite = True
        self.last = ""


class _Requestor(prawcore.Requestor):
    """PRAW 8 sends its own fixed timeout with every API call; use the operator's `timeout_s` instead."""

    def request(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> requests.Response:
        guard: PostGuard | None = getattr(exchange, "guard", None)
        guarded = (
            guard is not None
            and len(args) >= 2
            and str(args[0]).upper() == "POST"
            and str(args[1]).rstrip("/").endswith(guard.path)
        )
        if guard is not None and guarded:
            if guard.sent and not guard.definite:
                raise NotResent(guard.last)
            guard.sent, guard.definite, guard.last = True, False, "got no answer"
        try:
            response = super().request(*args, timeout=self.timeout, **kwargs)
        except prawcore.RequestException as exc:
            if guard is not None and guarded:
                guard.last = f"failed: {type(exc.original_exception).__name__}: {exc.original_exception}"
            raise
        if guard is not None and guarded:
            guard.definite = response.status_code < 500 and response.status_code != 408
            guard.last = f"got HTTP {response.status_code}"
        exchange.response = response
        return response


def build_reddit(settings: SourceSettings) -> praw.Reddit:
    """The real PRAW client from `[sources.reddit]`; base_url sets both of PRAW's URLs (a proxy, a test)."""
    options = settings.options
    client_id = as_str(options.get("client_id"))
    if client_id is None:
        raise SourceAuthError(NAME, f"client_id is not set. {AUTH_HINT}")
    username = as_str(options.get("username"))
    # Reddit's API rules ask for the operator's account in the User-Agent when there is one.
    user_agent = as_str(options.get("user_agent")) or (
        f"{USER_AGENT} (by /u/{username})" if username else USER_AGENT
    )
    oauth_url = as_str(options.get("oauth_url")) or settings.base_url or DEFAULT_OAUTH_URL
    reddit_url = as_str(options.get("reddit_url")) or settings.base_url or DEFAULT_REDDIT_URL
    try:
        return praw.Reddit(
            client_id=client_id,
            # None selects PRAW's installed-app flow; script apps always have a secret.
            client_secret=as_str(options.get("client_secret")),
            user_agent=user_agent,
            username=username,
            password=as_str(options.get("password")),
            oauth_url=oauth_url.rstrip("/"),
            reddit_url=reddit_url.rstrip("/"),
            check_for_updates=False,  # it would ask PyPI on every start
            check_for_async=False,
            requestor_class=_Requestor,
            requestor_kwargs={"timeout": settings.timeout_s},
        )
    except (PRAWException, core.PrawcoreException, ValueError) as exc:
        raise SourceAuthError(NAME, f"cannot set up PRAW: {exc}. {AUTH_HINT}") from None
