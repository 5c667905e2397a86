"""Reading Grumble's metrics in tests. They live in the process's default registry and only ever go up,
so a test compares a sample before and after what it does, never with a fixed total."""

from __future__ import annotations

from prometheus_client import REGISTRY


def sample(name: str, **labels: str) -> float:
    """A sample's value now (0 when it was never set: a labelled series appears on first use)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
