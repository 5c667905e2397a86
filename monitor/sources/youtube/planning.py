"""The YouTube quota as `grumble status` and the Sources page show it: `quota_status`, the day's count
and what calls cost, and `quota_plan`, what the watches spend in a day at the collection pace and
whether that fits the share collection may spend."""

from __future__ import annotations

import math
from collections.abc import Sequence

from monitor.mention import Watch
from monitor.sources.paging import search_terms
from monitor.sources.youtube.account import YouTubeAccount
from monitor.sources.youtube.api import COST
from monitor.sources.youtube.options import streams_of, wants_search


class QuotaPlanning(YouTubeAccount):
    def quota_status(self) -> list[str]:
        """For `grumble status` and the Sources page: the day's count, and what calls cost."""
        if self.api_key is None:
            return ["quota: no api_key set; nothing is spent"]
        usage = self.quota.usage()
        return [
            f"quota (collection): {usage.describe()}",
            f"quota (replies may use all {self.reply_quota.quota.allowed:,}): "
            f"{self.reply_quota.remaining():,} units left",
            f"costs: search.list {COST['search.list']} units (each search term every "
            f"{self.search_every.total_seconds() / 3600:g} h), commentThreads.list 1 a page, "
            f"comments.insert {COST['comments.insert']} a reply",
        ]

    def quota_plan(self, watches: Sequence[Watch], every_minutes: float) -> list[str]:
        """What the watches spend in a day at one run every `every_minutes`, at least (one page per
        listing a run; a backfill or a busy video takes more), and whether that fits the share."""
        listings = searches_a_day = 0.0
        runs_a_day = 24 * 60 / every_minutes
        for watch in watches:
            options = {**self.settings.options, **watch.options_for(self.name)}
            streams = [
                *streams_of(options, "video_ids", "video"),
                *streams_of(options, "channel_ids", "channel"),
            ]
            terms = search_terms(watch.keywords, watch.required) if wants_search(options, streams) else []
            # Each term follows up to search_results videos found, each one listing a run.
            listings += len(streams) + len(terms) * self.search_results
            every_h = self.search_every.total_seconds() / 3600
            searches_a_day += len(terms) * (24 / every_h if every_h > 0 else runs_a_day)
        search_units = searches_a_day * COST["search.list"]
        units = listings * runs_a_day + search_units
        allowed = self.quota.quota.allowed
        line = (
            f"plan: at least {units:,.0f} units a day ({listings:g} listing(s) a run every {every_minutes:g} "
            f"min, {searches_a_day:g} search(es) a day) of the {allowed:,} collection may spend"
        )
        if units <= allowed:
            return [line + ": it fits"]
        if listings and allowed > search_units:
            pace = math.ceil(listings * 24 * 60 / (allowed - search_units))
            fix = f"set [sources.youtube] collect_every_minutes = {pace} or more, follow fewer videos"
        else:
            fix = "search less often (search_every_hours), follow fewer videos"
        return [
            f"{line}: OVER the share, so collection stops for the day before midnight Pacific; {fix}, "
            "or raise quota_share / daily_quota"
        ]
