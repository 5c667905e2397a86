"""The webhook endpoints as people see them: where each posts, what it is sent, its health (ok, failing,
disabled) and its delivery log; one view model for the Webhooks page and `grumble status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from monitor.config import Config
from monitor.config.webhooks import WebhookEndpoint
from monitor.mention import utcnow
from monitor.store import webhook_deliveries as store

# The window of the counts shown beside each endpoint.
RECENT = timedelta(hours=24)
OK, FAILING, DISABLED, NOT_YET = "ok", "FAILING", "DISABLED", "nothing sent yet"


@dataclass(frozen=True)
class EndpointView:
    endpoint: WebhookEndpoint
    state: store.EndpointState
    pending: int
    delivered_recently: int
    failed_recently: int

    @property
    def health(self) -> str:
        if self.state.disabled_at is not None:
            return DISABLED
        if self.state.failing_since is not None:
            return FAILING
        return OK if self.state.last_success_at is not None else NOT_YET

    @property
    def rotating(self) -> bool:
        """Signing with a previous secret too (a key rotation under way)."""
        return len(self.endpoint.keys) > 1

    def health_sentence(self) -> str:
        state = self.state
        if self.health == DISABLED:
            return (
                f"disabled since {_time(state.disabled_at)}: {state.disabled_reason}. Enable it again once "
                "the endpoint works: its pending deliveries are kept and sent then; what happens while it "
                "is disabled is not kept for it"
            )
        if self.health == FAILING:
            return f"failing since {_time(state.failing_since)}: {state.last_error}"
        if self.health == OK:
            return f"ok, last delivery {_time(state.last_success_at)}"
        return NOT_YET


def _time(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "never"


def endpoint_views(config: Config, engine: Engine, now: datetime | None = None) -> list[EndpointView]:
    """Every configured endpoint, in the file's order."""
    now = now or utcnow()
    states = store.endpoint_states(engine)
    counts = store.counts(engine, since=now - RECENT)
    views = []
    for endpoint in config.webhooks.endpoints:
        mine = counts.get(endpoint.name, {})
        views.append(
            EndpointView(
                endpoint=endpoint,
                state=states.get(endpoint.name) or store.EndpointState(name=endpoint.name),
                pending=mine.get("pending", 0),
                delivered_recently=mine.get("delivered", 0),
                failed_recently=mine.get("failed", 0),
            )
        )
    return views


def describe_attempt(attempt: store.LoggedAttempt) -> str:
    outcome = "delivered" if attempt.error is None else f"failed: {attempt.error}"
    answer = f"HTTP {attempt.status_code}" if attempt.status_code is not None else "no answer"
    took = f"{answer}, {attempt.duration_ms} ms"
    return f"{_time(attempt.at)}  {attempt.type}  {attempt.msg_id}  {outcome} ({took})"


def status_lines(
    config: Config, engine: Engine, now: datetime | None = None, log_lines: int = 5
) -> list[str]:
    """`grumble status`'s webhook section: nothing when no endpoint is configured."""
    lines: list[str] = []
    for view in endpoint_views(config, engine, now):
        endpoint = view.endpoint
        lines.append(f"\nwebhook {endpoint.name} -> {endpoint.host}  [{view.health}]")
        lines.append(f"  {view.health_sentence()}")
        rotation = " (signed with the current and the previous secret)" if view.rotating else ""
        lines.append(f"  events: {', '.join(endpoint.events)}{rotation}")
        lines.append(
            f"  pending: {view.pending}; last 24 h: {view.delivered_recently} delivered, "
            f"{view.failed_recently} failed attempt(s)"
        )
        for attempt in store.attempt_log(engine, endpoint.name, limit=log_lines):
            lines.append(f"    {describe_attempt(attempt)}")
    return lines
