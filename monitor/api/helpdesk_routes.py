"""/mentions/{id}/helpdesk: hand a mention's case to a configured helpdesk (Chatwoot, Zammad, FreeScout),
exactly once per mention and helpdesk, and read where it went (monitor/helpdesk/handoff.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from monitor.api.auth import AUTH_RESPONSES, RESPONDER, VIEWER, Caller
from monitor.api.context import ApiContext, api_context
from monitor.api.problems import Problem, responses
from monitor.config.helpdesk import HELPDESKS
from monitor.errors import CaseError, HelpdeskBusy
from monitor.helpdesk.handoff import send_to_helpdesk
from monitor.helpdesk.registry import Helpdesks
from monitor.store.helpdesk_links import HelpdeskLink, handoff_facts, links_for_mention

router = APIRouter(prefix="/mentions", tags=["helpdesk"], responses=AUTH_RESPONSES)


class HelpdeskLinkOut(BaseModel):
    helpdesk: str = Field(description="chatwoot, zammad or freescout")
    state: str = Field(
        description="sent; sending; unconfirmed (may exist: sent again, it is looked for first); failed"
    )
    remote_id: str | None = Field(description="the conversation's or ticket's id there, once sent")
    remote_url: str | None = Field(description="where agents open it")
    remote_status: str | None = Field(
        description="what the helpdesk's webhook last said (open, resolved, closed)"
    )
    attempts: int
    error: str | None = Field(description="why the last attempt did not go through")
    next_attempt_at: datetime | None = Field(description="when the scheduler tries again by itself")
    sent_at: datetime | None

    @classmethod
    def of(cls, link: HelpdeskLink) -> HelpdeskLinkOut:
        return cls.model_validate(link, from_attributes=True)


class HandoffRequest(BaseModel):
    helpdesk: str | None = Field(
        default=None,
        description="which configured helpdesk; may be left out when only one is configured",
        json_schema_extra={"enum": list(HELPDESKS)},
    )


def _helpdesks(request: Request, context: Annotated[ApiContext, Depends(api_context)]) -> Helpdesks:
    """The app's helpdesk clients, built on first use and kept with it (their connection pools too)."""
    built = getattr(request.app.state, "helpdesks", None)
    if not isinstance(built, Helpdesks):
        built = Helpdesks(context.config.helpdesk)
        request.app.state.helpdesks = built
    return built


def _existing(context: ApiContext, mention_id: int) -> None:
    try:
        with context.engine.connect() as connection:
            handoff_facts(connection, mention_id)
    except CaseError:
        raise Problem("not-found", f"No mention with id {mention_id}; GET /mentions lists them.") from None


@router.get("/{mention_id}/helpdesk", summary="Where the mention was handed over", responses=responses(404))
def helpdesk_links(
    mention_id: int,
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(VIEWER)],
) -> list[HelpdeskLinkOut]:
    _existing(context, mention_id)
    return [HelpdeskLinkOut.of(link) for link in links_for_mention(context.engine, mention_id)]


@router.post(
    "/{mention_id}/helpdesk",
    summary="Hand the mention's case to a helpdesk (once: sending again answers the same link)",
    responses=responses(400, 404, 409),
)
def send_to_a_helpdesk(
    mention_id: int,
    body: HandoffRequest,
    context: Annotated[ApiContext, Depends(api_context)],
    helpdesks: Annotated[Helpdesks, Depends(_helpdesks)],
    caller: Annotated[Caller, Depends(RESPONDER)],
) -> HelpdeskLinkOut:
    _existing(context, mention_id)
    configured = context.config.helpdesk.names
    name = body.helpdesk or (configured[0] if len(configured) == 1 else None)
    if name not in configured:
        listed = ", ".join(configured) or "none (add [helpdesk.<name>] to grumble.toml)"
        raise Problem("bad-request", f"Name a configured helpdesk in `helpdesk`: {listed}.")
    try:
        link = send_to_helpdesk(
            context.engine, mention_id, helpdesks.get(name), caller.name, context.config.responder
        )
    except HelpdeskBusy as exc:
        raise Problem("conflict", str(exc)) from None
    return HelpdeskLinkOut.of(link)
