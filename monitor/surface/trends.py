"""Trend arithmetic, pure: spike flags over a count series, and complaint terms against the period before."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Common English function words and web noise: they dominate counts and say nothing about a complaint.
STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be because been before being but by can could
    did do does doing don't for from get got had has have having he her here him his how i i'm if in
    into is it it's its just me more most my no not now of on one only or other our out over own really
    same she should so some than that the their them then there these they this those through to too up
    us very was we were what when where which while who why will with would you your http https www com
    user amp im dont cant ive thats its""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W\d_][\w'-]{2,}", re.UNICODE)


def is_spike(current: int, baseline: Sequence[int], sigma: float = 3.0, min_count: int = 5) -> bool:
    """Whether `current` is far above `baseline`: mean + sigma x sd, with the sd no smaller than a Poisson
    count's (sqrt of the mean), so a flat baseline of zeros does not make 2 mentions a spike."""
    if current < min_count or not baseline:
        return False
    mean = sum(baseline) / len(baseline)
    variance = sum((value - mean) ** 2 for value in baseline) / len(baseline)
    spread = max(math.sqrt(variance), math.sqrt(max(mean, 1.0)))
    return current > mean + sigma * spread


def spike_flags(
    series: Sequence[int], window: int = 24, sigma: float = 3.0, min_count: int = 5
) -> list[bool]:
    """For each point, whether it spikes against the `window` points before it."""
    return [
        is_spike(value, series[max(0, index - window) : index], sigma, min_count)
        for index, value in enumerate(series)
    ]


@dataclass(frozen=True)
class Term:
    term: str
    count: int
    previous: int

    @property
    def change(self) -> str:
        if self.previous == 0:
            return "new"
        return f"{(self.count - self.previous) / self.previous:+.0%}"


def terms(texts: Iterable[str]) -> Counter[str]:
    """Each word counted once per text: one rant repeating a word is one voice."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({word for word in (w.lower() for w in _WORD.findall(text)) if word not in STOPWORDS})
    return counts


def top_terms(
    current: Iterable[str], previous: Iterable[str], n: int = 15, ignore: Iterable[str] = ()
) -> list[Term]:
    """The period's most frequent complaint terms, with their count in the period before.

    `ignore` drops the watch's own keywords: every mention contains the brand name."""
    skip = {word.lower() for phrase in ignore for word in phrase.split()}
    now, before = terms(current), terms(previous)
    ranked = [(term, count) for term, count in now.most_common() if term not in skip]
    return [Term(term, count, before.get(term, 0)) for term, count in ranked[:n]]
