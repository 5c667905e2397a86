"""Negative share and how it moved: one rule for the digest's counts, Trends' week over week and the
Compare page."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Counts:
    total: int
    negative: int

    @property
    def share(self) -> float | None:
        """The negative share; None when nothing was heard (not 0%: no mention is no verdict)."""
        return self.negative / self.total if self.total else None


def difference(now: float | None, before: float | None) -> float | None:
    """How a share moved; None when either side is unknown."""
    return now - before if now is not None and before is not None else None


def points(change: float | None) -> str:
    """A change between two shares, in percentage points: +0.05 -> '+5 pts'; '-' when one is unknown."""
    return "-" if change is None else f"{100 * change:+.0f} pts"
