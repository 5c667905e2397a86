"""/mentions: the inbox's list, filtered as the inbox filters (the same parameters as an inbox link,
surface/inbox_view.py) and paged by cursor; one mention with its scores, verdict, history and case; and
a person's correction of its label."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from models.labels import LABELS
from monitor.api import cursor as cursors
from monitor.api.auth import AUTH_RESPONSES, RESPONDER, VIEWER, Caller
from monitor.api.context import ApiContext, api_context
from monitor.api.models import CaseOut, HistoryEntry, Mention, MentionDetail, MentionPage, ReplyOut
from monitor.api.problems import FieldProblem, Problem, invalid_input, responses
from monitor.config.watches import competitor_watches
from monitor.mention import utcnow
from monitor.respond.cases import open_case
from monitor.store.cases import CASE_STATUSES, find_case, replies_for_case
from monitor.store.detail import get_mention
from monitor.store.keyset import KEYSET_SORTS, Position, page_after
from monitor.store.mentions import distinct_sources
from monitor.store.triage import history, relabel
from monitor.surface.inbox import mention_row
from monitor.surface.inbox_view import (
    ALL_LABELS,
    FIELDS,
    LIST_FIELDS,
    TIME_RANGES,
    TRIAGE_VIEWS,
    InboxView,
    from_params,
)

router = APIRouter(prefix="/mentions", tags=["mentions"], responses=AUTH_RESPONSES)

MAX_LIMIT = 100


# What a list's items may be, for the OpenAPI document (the parser, from_params, is what checks them).
_ENUMS: dict[str, Sequence[str]] = {
    "labels": [*LABELS, ALL_LABELS],
    "show": list(TRIAGE_VIEWS),
    "period": list(TIME_RANGES),
    "sort": list(KEYSET_SORTS),
    "case_statuses": list(CASE_STATUSES),
}
# The inbox's layout is how a page draws its list, not which mentions are in it.
_NOT_FILTERS = ("layout",)


def _filter_parameters() -> list[dict[str, Any]]:
    """The inbox link's parameters (FIELDS), declared in the OpenAPI document: a new inbox filter is an
    API parameter without a change here."""
    declared = []
    for name, setting in FIELDS.items():
        if name in _NOT_FILTERS:
            continue
        item: dict[str, Any] = {"type": "string"}
        if name in _ENUMS:
            item["enum"] = list(_ENUMS[name])
        schema = {"type": "array", "items": item} if name in LIST_FIELDS else item
        default = getattr(InboxView(), name)
        declared.append(
            {
                "name": setting.link,
                "in": "query",
                "required": False,
                "description": f"the inbox's {name.replace('_', ' ')} filter"
                + (" (repeat for several)" if name in LIST_FIELDS else "")
                + (f"; default {default!r}" if default not in ("", (), False, 0.0) else ""),
                "schema": schema,
            }
        )
    return declared


def _checked_view(context: ApiContext, request: Request) -> tuple[InboxView, list[FieldProblem]]:
    """The inbox view the parameters ask for, and a problem for each one that cannot be used: each is
    read by the inbox's own parser (from_params), one at a time, so a problem names its parameter."""
    watches = [watch.name for watch in context.config.watches]
    sources = sorted(set(distinct_sources(context.engine)) | {source for _, source in context.config.jobs()})
    links = {setting.link for name, setting in FIELDS.items() if name not in _NOT_FILTERS}
    given = {link: request.query_params.getlist(link) for link in links if link in request.query_params}
    view, _ = from_params(given, watches, sources)
    errors: list[FieldProblem] = []
    for link, values in given.items():
        for problem in from_params({link: values}, watches, sources)[1]:
            message = problem.removeprefix("Ignored ").replace(" in the link", "").rstrip(".")
            errors.append(FieldProblem(field=link, location="query", message=message, fix=_FIX))
    if view.sort not in KEYSET_SORTS:
        message = f"the API pages by position, which sort={view.sort!r} cannot give"
        fix = f"send one of {', '.join(KEYSET_SORTS)}"
        errors.append(FieldProblem(field="sort", location="query", message=message, fix=fix))
    return view, errors


_FIX = "send a value the message allows, or leave the parameter out"


@router.get(
    "",
    summary="Mentions, filtered like the inbox",
    description="The inbox's list: open negative mentions by priority unless the parameters (those of an "
    "inbox link) say otherwise. Pass `next_cursor` as `cursor` for the next page.",
    openapi_extra={"parameters": _filter_parameters()},
)
def list_mentions(
    request: Request,
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(VIEWER)],
    cursor: Annotated[str | None, Query(description="next_cursor of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="mentions a page")] = 50,
) -> MentionPage:
    view, errors = _checked_view(context, request)
    after: Position | None = None
    if cursor is not None and not errors:
        try:
            after = cursors.decode(cursor, view.sort)
        except cursors.BadCursor as exc:
            message = f"this cursor cannot be used: {exc}"
            errors.append(FieldProblem(field="cursor", location="query", message=message, fix=_FIX))
    if errors:
        raise invalid_input(errors)
    now = utcnow()
    where = view.to_filter(now, caller.name, competitor_watches(context.config.watches))
    rows = page_after(context.engine, where, view.sort, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = cursors.encode(Position.of(view.sort, rows[-1])) if more else None
    return MentionPage(items=[Mention.of(mention_row(row, now)) for row in rows], next_cursor=next_cursor)


def _mention(context: ApiContext, mention_id: int) -> Mention:
    found = get_mention(context.engine, mention_id)
    if found is None:
        raise Problem("not-found", f"No mention with id {mention_id}; GET /mentions lists them.")
    return Mention.of(mention_row(found))


@router.get(
    "/{mention_id}",
    summary="One mention with its scores, verdict, history and case",
    responses=responses(404),
)
def mention_detail(
    mention_id: int,
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(VIEWER)],
) -> MentionDetail:
    mention = _mention(context, mention_id)
    case = find_case(context.engine, mention_id)
    return MentionDetail(
        mention=mention,
        history=[HistoryEntry.of(event) for event in history(context.engine, mention_id)],
        case=None if case is None else CaseOut.of(case, utcnow()),
        replies=[] if case is None else [ReplyOut.of(r) for r in replies_for_case(context.engine, case.id)],
    )


class Relabel(BaseModel):
    label: Literal["negative", "neutral", "positive"] = Field(description="the label a person gives it")


@router.put(
    "/{mention_id}/label",
    summary="Correct the mention's label (kept as feedback for retraining)",
    responses=responses(404),
)
def relabel_mention(
    mention_id: int,
    body: Relabel,
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(RESPONDER)],
) -> Mention:
    _mention(context, mention_id)
    relabel(context.engine, mention_id, body.label, caller.name)
    return _mention(context, mention_id)


@router.post(
    "/{mention_id}/case",
    summary="Open the mention's case: 201 with the new case, or 200 with the one it has",
    status_code=201,
    responses={200: {"model": CaseOut, "description": "The case the mention had already"}, **responses(404)},
)
def open_mention_case(
    mention_id: int,
    response: Response,
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(RESPONDER)],
) -> CaseOut:
    _mention(context, mention_id)
    if find_case(context.engine, mention_id) is not None:
        response.status_code = 200
    case = open_case(context.engine, mention_id, caller.name, context.config.responder)
    return CaseOut.of(case, utcnow())
