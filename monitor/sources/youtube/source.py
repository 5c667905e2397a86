"""YouTubeSource, the source the registry builds: collection (collect.py), replies (replies.py) and
the quota report (planning.py) on one account of options, credentials and quota (account.py)."""

from __future__ import annotations

from monitor.sources.youtube.collect import Collector
from monitor.sources.youtube.planning import QuotaPlanning
from monitor.sources.youtube.replies import Replier


class YouTubeSource(Collector, Replier, QuotaPlanning):
    """YouTube comments: collected per watch, replied to with the channel's OAuth credentials, every
    call planned against the day's quota (see the package docstring)."""
