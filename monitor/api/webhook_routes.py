"""/webhooks, read only and for admins: the configured endpoints with their subscriptions and health, and
each one's delivery log (what the Webhooks page and `grumble status` show; monitor/webhooks/overview.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from monitor.api.auth import ADMIN, AUTH_RESPONSES, Caller
from monitor.api.context import ApiContext, api_context
from monitor.api.problems import FieldProblem, Problem
from monitor.store import webhook_deliveries as store
from monitor.webhooks.overview import endpoint_views

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=AUTH_RESPONSES)


class EndpointOut(BaseModel):
    name: str
    host: str = Field(description="where it posts (the URL's path and query may hold a token: not shown)")
    events: list[str] = Field(description="the event types it is sent")
    rotating: bool = Field(description="signed with a previous secret too (a key rotation under way)")
    health: str = Field(description="ok, FAILING, DISABLED, or nothing sent yet")
    health_sentence: str
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    pending: int
    delivered_last_24h: int
    failed_attempts_last_24h: int


class AttemptOut(BaseModel):
    endpoint: str
    at: datetime
    webhook_id: str = Field(description="the webhook-id header: the same on every retry of one event")
    type: str
    status_code: int | None = Field(description="the endpoint's answer; null when none came")
    error: str | None = Field(description="why it failed; null when delivered")
    duration_ms: int


@router.get("/endpoints", summary="The webhook endpoints, their subscriptions and health")
def list_endpoints(
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(ADMIN)],
) -> list[EndpointOut]:
    return [
        EndpointOut(
            name=view.endpoint.name,
            host=view.endpoint.host,
            events=list(view.endpoint.events),
            rotating=view.rotating,
            health=view.health,
            health_sentence=view.health_sentence(),
            failing_since=view.state.failing_since,
            disabled_at=view.state.disabled_at,
            disabled_reason=view.state.disabled_reason,
            pending=view.pending,
            delivered_last_24h=view.delivered_recently,
            failed_attempts_last_24h=view.failed_recently,
        )
        for view in endpoint_views(context.config, context.engine)
    ]


@router.get("/attempts", summary="The delivery log, newest first: every try, of one endpoint or all")
def list_attempts(
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(ADMIN)],
    endpoint: Annotated[str | None, Query(description="one endpoint's name; all when left out")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="attempts to return per endpoint")] = 50,
) -> list[AttemptOut]:
    configured = [e.name for e in context.config.webhooks.endpoints]
    if endpoint is not None and endpoint not in configured:
        fix = f"one of: {', '.join(configured)}" if configured else "no endpoint is configured"
        raise Problem(
            "invalid-input",
            f"No webhook endpoint named {endpoint!r}; {fix}.",
            [FieldProblem(field="endpoint", location="query", message="no such endpoint", fix=fix)],
        )
    return [
        AttemptOut(
            endpoint=name,
            at=attempt.at,
            webhook_id=attempt.msg_id,
            type=attempt.type,
            status_code=attempt.status_code,
            error=attempt.error,
            duration_ms=attempt.duration_ms,
        )
        for name in ([endpoint] if endpoint else configured)
        for attempt in store.attempt_log(context.engine, name, limit)
    ]
