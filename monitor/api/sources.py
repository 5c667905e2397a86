"""/watches, /sources and /streams, read only: what Grumble listens for, and how each source's collection
and each live stream is doing (the figures `grumble status` prints)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from monitor.api.auth import AUTH_RESPONSES, VIEWER, Caller
from monitor.api.context import ApiContext, api_context
from monitor.mention import utcnow
from monitor.store.collect_state import all_states
from monitor.store.streams import all_streams

router = APIRouter(tags=["watches and sources"], responses=AUTH_RESPONSES)


class WatchOut(BaseModel):
    name: str
    keywords: list[str]
    required: list[str]
    excluded: list[str]
    languages: list[str]
    sources: list[str] = Field(description="the sources asked for this watch")
    brand: str | None
    product: str | None
    competitors: list[str]


@router.get("/watches", summary="The configured watches")
def list_watches(
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(VIEWER)],
) -> list[WatchOut]:
    return [
        WatchOut(
            name=watch.name,
            keywords=list(watch.keywords),
            required=list(watch.required),
            excluded=list(watch.excluded),
            languages=list(watch.languages),
            sources=sorted(watch.sources),
            brand=watch.brand,
            product=watch.product,
            competitors=list(watch.competitors),
        )
        for watch in context.config.watches
    ]


class SourceHealth(BaseModel):
    """One (watch, source) collection job."""

    watch: str
    source: str
    health: str = Field(description="ok, degraded (its last run worked in part), failing, or not run")
    problem: str = Field(description="what is wrong, in the source's words; empty when healthy")
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    consecutive_failures: int
    next_attempt_at: datetime | None
    mentions_collected: int


@router.get("/sources", summary="The health of each collection job (watch, source)")
def source_health(
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(VIEWER)],
) -> list[SourceHealth]:
    return [SourceHealth.model_validate(state, from_attributes=True) for state in all_states(context.engine)]


class StreamOut(BaseModel):
    """One live stream (a source at one endpoint, shared by the watches that stream from it)."""

    source: str
    endpoint: str
    state: str = Field(description="live, reconnecting (its runner is up, the connection is not), or stopped")
    held_by: str | None = Field(description="the process running it")
    lag_seconds: float | None = Field(description="how far behind the network's clock its last event was")
    events_per_minute: float | None
    last_event_at: datetime | None
    heartbeat_at: datetime | None
    reconnects: int
    mentions_total: int
    last_error: str | None
    fell_back_at: datetime | None = Field(description="when its watches went back to polling, if they did")
    fell_back_reason: str | None


@router.get("/streams", summary="The health of each live stream (the lines `grumble status` prints)")
def stream_health(
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(VIEWER)],
) -> list[StreamOut]:
    now = utcnow()
    return [
        StreamOut(
            source=health.source,
            endpoint=health.endpoint,
            state=health.state(now),
            held_by=health.holder,
            lag_seconds=health.lag_seconds if health.live(now) else None,
            events_per_minute=health.events_per_minute if health.live(now) else None,
            last_event_at=health.last_event_at,
            heartbeat_at=health.heartbeat_at,
            reconnects=health.reconnects,
            mentions_total=health.mentions_total,
            last_error=health.last_error,
            fell_back_at=health.fell_back_at,
            fell_back_reason=health.fell_back_reason,
        )
        for health in all_streams(context.engine)
    ]
