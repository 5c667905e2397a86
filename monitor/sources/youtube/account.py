"""The ground the YouTube source stands on, shared by collection, replies and the quota report: its
options, the API key and the OAuth token, and the day's two quota accounts on one ledger (collection
spends at most `quota_share`, replies the whole quota); with `_quota_error_wait`, which turns YouTube's
own quota error into the count and the wait until the reset."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ClassVar

import httpx

from monitor.errors import ConfigError
from monitor.mention import utcnow
from monitor.sources.base import SourceSettings
from monitor.sources.google_api import GoogleError, quota_wait
from monitor.sources.google_auth import GoogleToken
from monitor.sources.http import credential_hint, option_int
from monitor.sources.quota import DailyWindow, Quota, QuotaAccount, QuotaExhausted, QuotaLedger, key_id
from monitor.sources.text import as_str
from monitor.sources.youtube.api import (
    DAILY_QUOTA_REASONS,
    DEFAULT_DAILY_QUOTA,
    DEFAULT_QUOTA_SHARE,
    MAX_CHARACTERS,
    MAX_PAGE_SIZE,
    MAX_SEARCH_RESULTS,
    NAME,
    SCOPE,
)
from monitor.sources.youtube.options import option_bool, option_float


class YouTubeAccount:
    name: ClassVar[str] = NAME

    def __init__(
        self,
        settings: SourceSettings,
        client: httpx.Client,
        ledger: QuotaLedger,
        *,
        clock: Callable[[], datetime] = utcnow,
        token_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.client = client
        options = settings.options
        self.api_key = str(options.get("api_key") or "").strip() or None
        self.page_size = option_int(options, "page_size", 50, maximum=MAX_PAGE_SIZE)
        self.max_pages = option_int(options, "max_pages", 20, maximum=1000)
        self.search_results = option_int(options, "search_results", 10, maximum=MAX_SEARCH_RESULTS)
        self.search_every = timedelta(hours=option_float(options, "search_every_hours", 12.0, 0.0))
        self.search_keep = timedelta(days=option_float(options, "search_keep_days", 7.0, 0.0))
        self.max_characters = option_int(options, "max_characters", MAX_CHARACTERS, maximum=MAX_CHARACTERS)
        self.all_replies = option_bool(options, "all_replies")
        self.clock = clock
        limit = int(option_float(options, "daily_quota", DEFAULT_DAILY_QUOTA, None))
        share = option_float(options, "quota_share", DEFAULT_QUOTA_SHARE, None)
        try:
            collect_quota = Quota(limit, DailyWindow(), share)
            reply_quota = Quota(limit, DailyWindow(), 1.0)
        except ConfigError as exc:
            raise ConfigError(f"[sources.youtube] daily_quota / quota_share: {exc}") from None
        # Counted per API key (Google counts per project; one key per project is the usual setup).
        key = key_id(self.api_key or "no-api-key")
        self.quota = QuotaAccount(ledger, source=self.name, key=key, quota=collect_quota, clock=clock)
        self.reply_quota = QuotaAccount(ledger, source=self.name, key=key, quota=reply_quota, clock=clock)
        self.auth_hint = credential_hint(
            self.name,
            "api_key",
            extra="create an API key in a Google Cloud project with the YouTube Data API v3 enabled "
            "(APIs & Services > Credentials)",
        )
        self.token = GoogleToken.from_options(
            self.name, options, SCOPE, client=client, grants=(GoogleToken.REFRESH_TOKEN,), clock=token_clock
        )
        self.channel_id = as_str(options.get("channel_id"))
        self._lock = threading.Lock()

    def _quota_error_wait(self, response: httpx.Response, error: GoogleError) -> float:
        """Seconds until YouTube's quota error is worth retrying. The daily quota (quotaExceeded) resets
        at midnight Pacific: our count then spends what it had left, so every process on this ledger
        stops until the reset instead of asking again."""
        if not {r.lower() for r in error.reasons} & DAILY_QUOTA_REASONS:
            return quota_wait(response, error, self.clock())
        for account in (self.reply_quota, self.quota):
            left = account.remaining()
            if left > 0:
                with contextlib.suppress(QuotaExhausted):  # another process spent it first
                    account.spend(left, "quotaExceeded from YouTube")
        return self.quota.usage().seconds_to_reset
