"""`[topics]`: complaint topics (monitor/topics/, `grumble topics`). Seed topics are per watch
(`topics = ["refund", "login"]` on a `[[watches]]` table).

[topics]
enabled = true            # embed unhappy mentions, assign them to topics, refit on schedule
refit_every_hours = 24    # the scheduled refit; 0: only by hand (`grumble topics --refit`)
emerging_days = 7         # an emerging topic: its last day against the days before it
emerging_min_count = 5    # ...with at least this many mentions in its last day
emerging_ratio = 3.0      # ...and this many times its usual day (no history: once a day)
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.config.tables import TableReader

TOPICS_KEYS = {"enabled", "refit_every_hours", "emerging_days", "emerging_min_count", "emerging_ratio"}


@dataclass(frozen=True)
class TopicSettings:
    enabled: bool = True
    refit_every_hours: float = 24.0
    emerging_days: int = 7
    emerging_min_count: int = 5
    emerging_ratio: float = 3.0


def parse_topics(root: TableReader) -> TopicSettings:
    reader = root.sub("topics")
    reader.reject_unknown(TOPICS_KEYS)
    return TopicSettings(
        enabled=reader.boolean("enabled", True),
        refit_every_hours=reader.number("refit_every_hours", 24.0),
        emerging_days=reader.integer("emerging_days", 7, minimum=1, maximum=90),
        emerging_min_count=reader.integer("emerging_min_count", 5, minimum=1),
        emerging_ratio=reader.number("emerging_ratio", 3.0, minimum=1.0),
    )
