"""The metrics helpers: jobs counted and timed by a bounded kind, failures counted and re-raised, the
process's role and version, and a health made of named checks."""

from __future__ import annotations

import time

import pytest

from monitor.observe.health import Health
from monitor.observe.metrics import JOB_KINDS, OTHER_KIND, job_kind, record_job, set_role
from tests.observe.conftest import sample


@pytest.mark.parametrize(
    ("job_id", "kind"),
    [
        ("collect:acme:reddit", "collect"),
        ("collect:a watch: with colons:rss", "collect"),
        ("digest:ops", "digest"),
        ("score", "score"),
        ("alerts", "alerts"),
        ("digest-retry", "digest-retry"),
        ("settle-replies", "settle-replies"),
        ("collect", "collect"),
        ("acme:collect", OTHER_KIND),
        ("something-new", OTHER_KIND),
        ("", OTHER_KIND),
    ],
)
def test_a_job_id_maps_to_one_of_a_few_kinds_never_to_a_watch_or_list_name(job_id: str, kind: str) -> None:
    assert job_kind(job_id) == kind
    assert job_kind(job_id) in (*JOB_KINDS, OTHER_KIND)


def test_a_job_that_returns_is_counted_succeeded_timed_and_stamped() -> None:
    before = sample("grumble_jobs_total", kind="collect", outcome="succeeded")
    failed_before = sample("grumble_jobs_total", kind="collect", outcome="failed")
    timed_before = sample("grumble_job_duration_seconds_count", kind="collect")
    seconds_before = sample("grumble_job_duration_seconds_sum", kind="collect")
    started = time.time()
    with record_job("collect:acme:reddit"):
        time.sleep(0.02)
    assert sample("grumble_jobs_total", kind="collect", outcome="succeeded") == before + 1
    assert sample("grumble_jobs_total", kind="collect", outcome="failed") == failed_before
    assert sample("grumble_job_duration_seconds_count", kind="collect") == timed_before + 1
    assert sample("grumble_job_duration_seconds_sum", kind="collect") - seconds_before >= 0.02
    last_success = sample("grumble_job_last_success_timestamp_seconds", kind="collect")
    assert started <= last_success <= time.time()


def test_a_job_that_raises_is_counted_failed_and_the_exception_reaches_the_caller() -> None:
    before = sample("grumble_jobs_total", kind="digest", outcome="failed")
    succeeded_before = sample("grumble_jobs_total", kind="digest", outcome="succeeded")
    stamped_before = sample("grumble_job_last_success_timestamp_seconds", kind="digest")
    timed_before = sample("grumble_job_duration_seconds_count", kind="digest")
    error = RuntimeError("mail server down")
    with pytest.raises(RuntimeError) as caught, record_job("digest:ops"):
        raise error
    assert caught.value is error
    assert sample("grumble_jobs_total", kind="digest", outcome="failed") == before + 1
    assert sample("grumble_jobs_total", kind="digest", outcome="succeeded") == succeeded_before
    assert sample("grumble_job_last_success_timestamp_seconds", kind="digest") == stamped_before
    assert sample("grumble_job_duration_seconds_count", kind="digest") == timed_before + 1


def test_an_unknown_job_is_counted_as_other_without_its_name_in_any_label() -> None:
    before = sample("grumble_jobs_total", kind=OTHER_KIND, outcome="succeeded")
    with record_job("export:customer-42"):
        pass
    assert sample("grumble_jobs_total", kind=OTHER_KIND, outcome="succeeded") == before + 1
    assert sample("grumble_jobs_total", kind="export:customer-42", outcome="succeeded") == 0


def test_the_role_and_version_are_one_info_sample() -> None:
    set_role("worker", "1.2.3")
    assert sample("grumble_info", role="worker", version="1.2.3") == 1


def test_health_is_ok_only_when_every_check_is() -> None:
    assert Health.of("worker", {"database": None, "queue": None}) == Health(
        True, "worker", {"database": "ok", "queue": "ok"}
    )
    failing = Health.of("scheduler", {"database": None, "lock": "another scheduler holds the lock"})
    assert not failing.ok
    assert failing.as_json() == {
        "ok": False,
        "role": "scheduler",
        "details": {"database": "ok", "lock": "another scheduler holds the lock"},
    }


def test_a_source_no_kind_has_is_counted_as_other_so_imports_cannot_grow_the_scrape() -> None:
    from datetime import UTC, datetime

    from monitor.observe.metrics import OTHER_SOURCE, count_collected, count_scored
    from monitor.store.mentions import PendingText

    before = sample("grumble_mentions_collected_total", source=OTHER_SOURCE)
    known = sample("grumble_mentions_collected_total", source="reddit")
    for made_up in ("crm-export-1", "crm-export-2", "=cmd|' /C calc'!A0"):
        count_collected(made_up, 2)
    count_collected("reddit", 1)
    assert sample("grumble_mentions_collected_total", source=OTHER_SOURCE) == before + 6
    assert sample("grumble_mentions_collected_total", source="reddit") == known + 1
    assert sample("grumble_mentions_collected_total", source="crm-export-1") == 0
    scored_before = sample("grumble_mentions_scored_total", source=OTHER_SOURCE)
    count_scored(
        [PendingText(id=1, text="t", created_at=datetime.now(UTC), source="ticket-9")], datetime.now(UTC)
    )
    assert sample("grumble_mentions_scored_total", source=OTHER_SOURCE) == scored_before + 1
