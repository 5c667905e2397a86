"""/cases: a mention's case, assigned, moved through its statuses, noted and tagged, through the same
functions the case panel calls (monitor/respond/cases.py; status moves its mention with it,
transitions.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from monitor.api.auth import AUTH_RESPONSES, RESPONDER, VIEWER, Caller
from monitor.api.context import ApiContext, api_context
from monitor.api.models import CaseOut, HistoryEntry
from monitor.api.problems import FieldProblem, Problem, invalid_input, responses
from monitor.errors import CaseError
from monitor.mention import utcnow
from monitor.respond.cases import MAX_TAG_CHARS, MAX_TAGS, add_note, assign, set_status, set_tags
from monitor.respond.transitions import MANUAL_STATUSES
from monitor.store.cases import Case, case_notes, load_case

router = APIRouter(prefix="/cases", tags=["cases"], responses=AUTH_RESPONSES)


def existing_case(context: ApiContext, case_id: int) -> Case:
    """The case, or a 404 problem: what every /cases route starts from."""
    try:
        return load_case(context.engine, case_id)
    except CaseError:
        raise Problem(
            "not-found", f"No case with id {case_id}; a mention's case id is in GET /mentions/{{id}}."
        ) from None


def _answer(case: Case) -> CaseOut:
    return CaseOut.of(case, utcnow())


@router.get("/{case_id}", summary="One case", responses=responses(404))
def get_case(
    case_id: int,
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(VIEWER)],
) -> CaseOut:
    return _answer(existing_case(context, case_id))


class Assignment(BaseModel):
    assignee: str | None = Field(max_length=128, description="who answers it; null or empty: nobody")


@router.put("/{case_id}/assignee", summary="Assign the case", responses=responses(404))
def assign_case(
    case_id: int,
    body: Assignment,
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(RESPONDER)],
) -> CaseOut:
    existing_case(context, case_id)
    return _answer(assign(context.engine, case_id, body.assignee, caller.name))


class StatusChange(BaseModel):
    status: str = Field(
        description=f"one of {', '.join(MANUAL_STATUSES)} "
        "(replied and waiting_for_approval come from the case's reply)",
        json_schema_extra={"enum": list(MANUAL_STATUSES)},
    )


@router.put(
    "/{case_id}/status",
    summary="Set the case's status; its mention follows (resolved: handled, dismissed, reopened: open)",
    responses=responses(404),
)
def set_case_status(
    case_id: int,
    body: StatusChange,
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(RESPONDER)],
) -> CaseOut:
    existing_case(context, case_id)
    if body.status not in MANUAL_STATUSES:
        raise invalid_input(
            [
                FieldProblem(
                    field="status",
                    location="body",
                    message=f"a case cannot be set to {body.status!r} by hand (replied comes from posting "
                    "a reply, waiting_for_approval from submitting one)",
                    fix=f"send one of {', '.join(MANUAL_STATUSES)}",
                )
            ]
        )
    return _answer(set_status(context.engine, case_id, body.status, caller.name))


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=10_000, description="an internal note, never sent anywhere")


@router.post("/{case_id}/notes", summary="Add an internal note", status_code=201, responses=responses(404))
def add_case_note(
    case_id: int,
    body: NoteIn,
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(RESPONDER)],
) -> list[HistoryEntry]:
    """Returns every note of the case, oldest first."""
    case = existing_case(context, case_id)
    if not body.text.strip():
        raise invalid_input(
            [FieldProblem(field="text", location="body", message="only spaces", fix="send some text")]
        )
    add_note(context.engine, case_id, body.text, caller.name)
    return [HistoryEntry.of(event) for event in case_notes(context.engine, case.mention_id)]


class TagsIn(BaseModel):
    tags: list[str] = Field(
        max_length=MAX_TAGS,
        description=f"the case's tags, replacing its own (at most {MAX_TAGS}, "
        f"{MAX_TAG_CHARS} characters each; repeats are dropped)",
    )


@router.put("/{case_id}/tags", summary="Replace the case's tags", responses=responses(404))
def set_case_tags(
    case_id: int,
    body: TagsIn,
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(RESPONDER)],
) -> CaseOut:
    existing_case(context, case_id)
    return _answer(set_tags(context.engine, case_id, body.tags, caller.name))
