"""How each quota-keeping source's quotas stand, for `grumble status` and the Sources page.

Each configured source that keeps quotas (sources/quota.py `QuotaReporting`, `QuotaPlanning`) is built
against the given ledger (the database's, so the figures are every process's) and asked for its count
and for its plan at the configured pace; building a source sends nothing. A source that cannot be built
says why instead of taking the report down.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.config import Config
from monitor.errors import GrumbleError
from monitor.sources.quota import QuotaLedger, QuotaPlanning, QuotaReporting
from monitor.sources.registry import QUOTA_LIMITED, build_source


def quota_report(
    config: Config, ledger: QuotaLedger, names: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """{source name: its quota lines} for the sources in `names` (default: those the watches use)."""
    wanted = sorted(set(names) if names is not None else {source for _, source in config.jobs()})
    report: dict[str, list[str]] = {}
    for name in wanted:
        if name not in QUOTA_LIMITED:
            continue
        try:
            source = build_source(config.source_settings(name), quotas=ledger)
        except GrumbleError as exc:
            report[name] = [f"quota: unknown ({exc})"]
            continue
        lines = source.quota_status() if isinstance(source, QuotaReporting) else []
        if isinstance(source, QuotaPlanning):
            watches = [watch for watch in config.watches if name in watch.sources]
            lines += source.quota_plan(watches, config.collect_every_minutes(name))
        if lines:
            report[name] = lines
    return report
