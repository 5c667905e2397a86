"""Digests, delivered exactly once as people see them: build, record the intent, send, record the delivery.

A digest, step by step:

1. One transaction: pick the list's negative mentions that none of its digests has claimed, render the
   digest, insert the run in "intent" under its slot (the scheduled occurrence it belongs to,
   monitor.surface.slots; unique per list) with a Message-ID made for it, and claim its mentions
   (unique per list). A crash before the commit leaves nothing behind; after it, the run exists and
   will be sent, with exactly these mentions. A second process building the same slot's digest,
   quiet or not, forced or not, finds the run (or fails to insert its own) and sends nothing.
2. Send the stored message to each recipient separately (each gets their own signed unsubscribe
   link), under a Message-ID derived from the run's and the recipient, recording each delivery as it
   is made; a retry after a partial failure sends only to those not reached yet.
3. Mark the run "sent". Only a run still in "intent" changes, so it is marked once.

Steps 2 and 3 run under a lease naming the process (monitor.store.leases): a retry, even a forced
one, leaves a run alone while the process sending it still runs.

A failed send leaves the run in "intent" with a later next attempt (backoff): it is retried, never
dropped, and the list gets no new digest until it is out (the next one then covers the gap).

The one window SMTP cannot close: the server has taken the message (250 after DATA) and we crash
before step 3 commits. The run is still in "intent", so a restart sends it again and the recipients
get a second copy. It is the same message under the same Message-ID, which Gmail and many servers and
clients show once; the others show two identical mails. It never becomes a mention in two different
digests. Closing the window would need the mail server to take part in our transaction, which SMTP
has no way to do; the Message-ID is what makes the duplicate recognisable.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from monitor.auth.signing import unsubscribe_token
from monitor.backoff import Backoff
from monitor.config import Config, DigestList
from monitor.errors import ConfigError, DeliveryError
from monitor.mention import utcnow
from monitor.store import digests as digest_store
from monitor.store import leases
from monitor.store.cases import overdue_cases
from monitor.store.collect_state import CollectState, all_states
from monitor.surface.compare import digest_comparisons
from monitor.surface.delivery import LEASE, RETRY
from monitor.surface.digest import Digest, DigestEntry, build_digest, competitors_left_out
from monitor.surface.mail import Mailer, compose, new_message_id, recipient_message_id, require
from monitor.surface.render import UNSUBSCRIBE_LINK_MARK, unsubscribe_link
from monitor.surface.shares import Counts
from monitor.surface.slots import digest_slot
from monitor.topics.report import period_topics

log = logging.getLogger(__name__)

# Scoring stamps `scored_at` before its transaction commits; a digest built in between would miss the
# mention for good if the next digest began exactly where this one ended. Looking back a little
# further costs nothing: claimed mentions cannot be claimed again.
SCORING_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class DigestOutcome:
    list_name: str
    # sent; quiet (nothing to send, none sent); failed (tried now); deferred (waits for its retry);
    # busy (another process has it); waiting (not built: an earlier digest of the list is unsent);
    # done (this slot's digest was already sent, or found quiet, by an earlier run)
    status: str
    run_id: int | None = None
    mention_count: int = 0
    message_id: str | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
    slot: datetime | None = None

    def describe(self) -> str:
        what = f"digest {self.list_name!r}"
        if self.run_id is not None:
            what += f" (run {self.run_id}, {self.mention_count} mentions)"
        if self.status == "sent":
            return f"{what}: sent as {self.message_id}"
        if self.status == "quiet":
            return f"{what}: all quiet, nothing sent"
        when = self.next_attempt_at.strftime("%Y-%m-%d %H:%M UTC") if self.next_attempt_at else "later"
        if self.status == "failed":
            return f"{what}: NOT SENT, kept and retried at {when}: {self.error}"
        if self.status == "deferred":
            return f"{what}: not sent yet, next try at {when}; last error: {self.error}"
        if self.status == "waiting":
            return f"{what}: not built, an earlier digest of this list is still unsent"
        if self.status == "done":
            slot = self.slot.strftime("%Y-%m-%d %H:%M UTC") if self.slot else "this slot"
            return f"{what}: already done for its slot at {slot}, nothing sent"
        return f"{what}: another process is sending it"


def find_list(config: Config, name: str) -> DigestList:
    for digest_list in config.digests:
        if digest_list.name == name:
            return digest_list
    known = ", ".join(d.name for d in config.digests) or "none"
    where = config.path or "configuration"
    raise ConfigError(f"{where}: no digest list named {name!r}; configured [[digests]]: {known}")


def preview(config: Config, engine: Engine, digest_list: DigestList, now: datetime) -> Digest:
    """The digest the list would get now, claiming nothing: `grumble digest --dry-run`."""
    failing = _failing(engine, digest_list)
    with engine.connect() as connection:
        return _build(config, engine, connection, digest_list, now, failing)


def _failing(engine: Engine, digest_list: DigestList) -> list[CollectState]:
    return [
        state
        for state in all_states(engine)
        if state.health in ("failing", "degraded")
        and (not digest_list.watches or state.watch in digest_list.watches)
    ]


def _build(
    config: Config,
    engine: Engine,
    connection: Connection,
    digest_list: DigestList,
    now: datetime,
    failing: list[CollectState],
) -> Digest:
    start = digest_store.last_period_end(connection, digest_list.name) or now - digest_list.period
    start = min(start, now)
    left_out = competitors_left_out(digest_list, config.watches)
    rows = digest_store.unclaimed_negatives(
        connection, digest_list.name, digest_list.watches, start - SCORING_GRACE, now, left_out
    )
    length = now - start
    counts = Counts(*digest_store.period_counts(connection, digest_list.watches, start, now, left_out))
    previous = Counts(
        *digest_store.period_counts(connection, digest_list.watches, start - length, start, left_out)
    )
    return build_digest(
        digest_list,
        [DigestEntry.from_row(row) for row in rows],
        counts=counts,
        previous=previous,
        failing=failing,
        period_start=start,
        now=now,
        public_url=config.dashboard.public_url,
        overdue=overdue_cases(engine, now),
        comparisons=(
            digest_comparisons(engine, config.watches, digest_list.watches, start, now)
            if digest_list.include_comparison
            else ()
        ),
        topics=period_topics(engine, list(digest_list.watches or config.watch_names), start, now)
        if config.topics.enabled
        else (),
    )


def _slot_taken(run: digest_store.DigestRun) -> DigestOutcome:
    """The outcome for a process that finds its slot's run made by another: done if it is out (or was
    quiet), else busy (being sent, or waiting for its retry: the run's owner or a retry sends it)."""
    status = "busy" if run.status == digest_store.INTENT else "done"
    return DigestOutcome(run.list_name, status, run.id, run.mention_count, run.message_id, slot=run.slot)


class DigestDelivery:
    """Builds, claims and sends digests through `mailer` (None without an [smtp] host: every send then
    fails with MailNotConfigured, and what was claimed is kept for a retry)."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        mailer: Mailer | None,
        *,
        clock: Callable[[], datetime] = utcnow,
        retry: Backoff = RETRY,
    ) -> None:
        self.config = config
        self.engine = engine
        self.mailer = mailer
        self.clock = clock
        self.retry = retry

    def run_digest(
        self, digest_list: DigestList, now: datetime | None = None, force: bool = False
    ) -> list[DigestOutcome]:
        """Send what the list still owes, then, if that went out, this period's digest.

        `force` sends an unsent digest even while it waits for its backoff (a person typed `--send`)."""
        now = now or self.clock()
        outcomes = [
            self._send(run, now, force) for run in digest_store.unsent_runs(self.engine, digest_list.name)
        ]
        if any(outcome.status != "sent" for outcome in outcomes):
            return [*outcomes, DigestOutcome(digest_list.name, "waiting")]
        with leases.holding(self.engine):  # the new run is made leased to this process
            return [*outcomes, self._new_digest(digest_list, now)]

    def retry_unsent(self, now: datetime | None = None, force: bool = False) -> list[DigestOutcome]:
        """Every digest still in "intent" whose next attempt is due: failed sends and crashed ones."""
        now = now or self.clock()
        return [self._send(run, now, force) for run in digest_store.unsent_runs(self.engine)]

    def _new_digest(self, digest_list: DigestList, now: datetime) -> DigestOutcome:
        require(self.mailer)  # no mail server, no claim: fail before taking mentions out of the pool
        slot = digest_slot(digest_list, now)
        taken = digest_store.slot_run(self.engine, digest_list.name, slot)
        if taken is not None:
            return _slot_taken(taken)
        failing = _failing(self.engine, digest_list)
        from_address = self.config.smtp.from_address
        try:
            with self.engine.begin() as connection:
                digest = _build(self.config, self.engine, connection, digest_list, now, failing)
                quiet = digest.quiet and not digest_list.send_when_quiet
                run = digest_store.create_run(
                    connection,
                    list_name=digest_list.name,
                    slot=slot,
                    period_start=digest.period_start,
                    period_end=digest.period_end,
                    status=digest_store.QUIET if quiet else digest_store.INTENT,
                    recipients=digest.recipients,
                    subject=digest.subject,
                    body_text=digest.text,
                    body_html=digest.html,
                    mention_ids=digest.mention_ids,
                    now=now,
                    message_id_for=lambda run_id: new_message_id("digest", run_id, from_address),
                    lease_until=now + LEASE,
                    holder=leases.this_process(),
                )
        except IntegrityError:
            # Another process made this slot's run, or claimed some of these mentions, first.
            taken = digest_store.slot_run(self.engine, digest_list.name, slot)
            return _slot_taken(taken) if taken else DigestOutcome(digest_list.name, "busy")
        if quiet:
            return DigestOutcome(digest_list.name, "quiet", run.id)
        return self._deliver(run, now)

    def _send(self, run: digest_store.DigestRun, now: datetime, force: bool) -> DigestOutcome:
        with leases.holding(self.engine):
            if not digest_store.lease_run(
                self.engine, run.id, now, now + LEASE, leases.this_process(), force=force
            ):
                return DigestOutcome(
                    run.list_name,
                    "deferred" if run.last_error else "busy",
                    run.id,
                    run.mention_count,
                    run.message_id,
                    error=run.last_error,
                    next_attempt_at=run.next_attempt_at,
                )
            return self._deliver(run, now)

    def _deliver(self, run: digest_store.DigestRun, now: datetime) -> DigestOutcome:
        assert run.message_id is not None
        # Checked at send time, so an unsubscribe also holds for a digest waiting for its retry.
        opted_out = digest_store.opted_out(self.engine, run.list_name)
        reached = digest_store.delivered_to(self.engine, run.id)
        recipients = [r for r in run.recipients if r.lower() not in opted_out | reached]
        if not recipients and not reached:
            digest_store.mark_sent(self.engine, run.id, run.message_id, self.clock())
            return DigestOutcome(run.list_name, "quiet", run.id, run.mention_count, run.message_id)
        for recipient in recipients:
            try:
                self._send_to(run, recipient)
            except DeliveryError as exc:
                next_attempt = now + self.retry.delay(run.attempts + 1)
                digest_store.mark_failed(self.engine, run.id, str(exc), next_attempt)
                log.warning(
                    "digest %r (run %d) not sent to %d of %d recipients, retrying at %s: %s",
                    run.list_name,
                    run.id,
                    len(recipients) - recipients.index(recipient),
                    len(run.recipients),
                    next_attempt,
                    exc,
                )
                return DigestOutcome(
                    run.list_name, "failed", run.id, run.mention_count, run.message_id, str(exc), next_attempt
                )
        digest_store.mark_sent(self.engine, run.id, run.message_id, self.clock())
        return DigestOutcome(run.list_name, "sent", run.id, run.mention_count, run.message_id)

    def _send_to(self, run: digest_store.DigestRun, recipient: str) -> None:
        assert run.message_id is not None
        message_id = recipient_message_id(run.message_id, recipient)
        message = _recipient_copy(
            self.config,
            self.engine,
            run.list_name,
            recipient,
            Rendered(run.subject, run.body_text, run.body_html),
            message_id,
            run.created_at,
        )
        require(self.mailer).send(message)
        # The window SMTP cannot close is here: the server has this copy, the row is not written yet.
        digest_store.record_delivery(self.engine, run.id, recipient, message_id, self.clock())


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _recipient_copy(
    config: Config,
    engine: Engine,
    list_name: str,
    recipient: str,
    rendered: Rendered,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """One recipient's copy of a digest, with their own unsubscribe link."""
    link = unsubscribe_link(config.dashboard.public_url, unsubscribe_token(engine, list_name, recipient))
    slug = re.sub(r"[^a-z0-9-]+", "-", list_name.lower()).strip("-") or "list"
    return compose(
        from_address=config.smtp.from_address,
        to=(recipient,),
        subject=rendered.subject,
        text=rendered.text.replace(UNSUBSCRIBE_LINK_MARK, link),
        html=rendered.html.replace(UNSUBSCRIBE_LINK_MARK, link),
        message_id=message_id,
        date=date,
        headers={
            "List-Id": f"Grumble digest {slug} <{slug}.digest.grumble.invalid>",
            "List-Unsubscribe": f"<{link}>",
            # RFC 8058: mail clients may unsubscribe with one POST to the link, no page shown.
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def send_test(
    config: Config,
    engine: Engine,
    digest_list: DigestList,
    address: str,
    mailer: Mailer | None,
    now: datetime,
) -> Digest:
    """The list's next digest as `preview` builds it, sent to `address` alone, marked as a test.

    Nothing is recorded: no run, no claimed mention, no delivery, so the real digest of the slot is
    built and sent exactly as if this had never happened. Its own Message-ID keeps a client from
    folding it into the real one."""
    digest = preview(config, engine, digest_list, now)
    message = _recipient_copy(
        config,
        engine,
        digest_list.name,
        address,
        Rendered(f"[test] {digest.subject}", digest.text, digest.html),
        new_message_id("digest-test", digest_list.name, config.smtp.from_address),
        now,
    )
    require(mailer).send(message)
    return digest
