"""/cases/{id}/reply...: a case's reply drafted, submitted, approved or sent back, and posted, by the very
calls the case panel makes (monitor/respond/workflow.py `run_reply_action`): the same approval rules,
length checks and exactly-once posting. A step the reply's state or the rules refuse is a 409 problem
whose detail is the panel's message; nothing was changed or sent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from monitor.api.auth import AUTH_RESPONSES, RESPONDER, VIEWER, Caller
from monitor.api.cases import existing_case
from monitor.api.context import ApiContext, api_context
from monitor.api.models import ReplyOut
from monitor.api.problems import FieldProblem, Problem, invalid_input, responses
from monitor.errors import CaseError
from monitor.respond.replies import render_template
from monitor.respond.workflow import ReplyAction, Step, run_reply_action
from monitor.store.cases import replies_for_case

router = APIRouter(prefix="/cases/{case_id}", tags=["replies"], responses=AUTH_RESPONSES)


class ReplyOutcome(BaseModel):
    happened: str = Field(
        description="saved, sent_back, or the reply's status afterwards: awaiting_approval, approved, "
        "posted, failed, unconfirmed, posted_by_hand"
    )
    message: str | None = Field(description="what the case panel would say")
    reply: ReplyOut


class ReplyText(BaseModel):
    text: str | None = Field(
        default=None, max_length=40_000, description="the reply; leave out to use the template's text"
    )
    template: str | None = Field(default=None, description="the [[reply_templates]] name it starts from")
    base_version: int | None = Field(
        default=None,
        ge=0,
        description="the reply's version this text was written over (0: none); when someone saved "
        "another since, nothing is saved and the answer is 409. Leave out to save over any version",
    )


class ByHand(BaseModel):
    sent: str = Field(
        default="", max_length=40_000, description="the text or link posted; empty: the approved text"
    )


class SendBack(BaseModel):
    reason: str = Field(default="", max_length=2_000, description="why it goes back to its author")


def _run(context: ApiContext, caller: Caller, action: ReplyAction) -> ReplyOutcome:
    outcome = run_reply_action(
        context.engine, action, caller.user, context.config.responder, context.repliers
    )
    if outcome.reply is None or outcome.happened == "refused":
        raise Problem("conflict", f"Nothing was done: {outcome.message}")
    return ReplyOutcome(happened=outcome.happened, message=outcome.message, reply=ReplyOut.of(outcome.reply))


def _text(context: ApiContext, case_id: int, body: ReplyText) -> str:
    if body.text is not None and body.text.strip():
        return body.text
    if body.template is None:
        raise invalid_input(
            [
                FieldProblem(
                    field="text",
                    location="body",
                    message="no text and no template",
                    fix="send the reply's text, or a template name to start from",
                )
            ]
        )
    case = existing_case(context, case_id)
    try:
        return render_template(context.engine, context.config, case.mention_id, body.template)
    except CaseError as exc:  # an unknown template, or one whose placeholder has no value here
        raise invalid_input(
            [FieldProblem(field="template", location="body", message=str(exc), fix="send the text instead")]
        ) from None


def _on_reply(context: ApiContext, case_id: int, reply_id: int) -> None:
    existing_case(context, case_id)
    if reply_id not in {reply.id for reply in replies_for_case(context.engine, case_id)}:
        raise Problem("not-found", f"Case {case_id} has no reply {reply_id}; GET /cases/{case_id}/replies.")


@router.get("/replies", summary="The case's replies, oldest first", responses=responses(404))
def list_replies(
    case_id: int,
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(VIEWER)],
) -> list[ReplyOut]:
    existing_case(context, case_id)
    return [ReplyOut.of(reply) for reply in replies_for_case(context.engine, case_id)]


def _text_step(step: Step, path: str, summary: str) -> None:
    @router.post(f"/reply/{path}", summary=summary, responses=responses(404, 409), name=f"reply_{step}")
    def handler(
        case_id: int,
        body: ReplyText,
        context: Annotated[ApiContext, Depends(api_context)],
        caller: Annotated[Caller, Depends(RESPONDER)],
    ) -> ReplyOutcome:
        existing_case(context, case_id)
        text = _text(context, case_id, body)
        action = ReplyAction(step, case_id, text=text, template=body.template, base_version=body.base_version)
        return _run(context, caller, action)


_text_step("save", "draft", "Save the case's draft reply (edits the reply not yet sent)")
_text_step(
    "submit",
    "submit",
    "Save and submit the reply: the approval rules decide whether it waits; otherwise it is posted at once "
    "where the source has a reply API",
)


def _reply_step(step: Step, path: str, summary: str) -> None:
    @router.post(
        f"/replies/{{reply_id}}/{path}", summary=summary, responses=responses(404, 409), name=f"reply_{step}"
    )
    def handler(
        case_id: int,
        reply_id: int,
        context: Annotated[ApiContext, Depends(api_context)],
        caller: Annotated[Caller, Depends(RESPONDER)],
    ) -> ReplyOutcome:
        _on_reply(context, case_id, reply_id)
        return _run(context, caller, ReplyAction(step, case_id, reply_id=reply_id))


_reply_step(
    "approve", "approve", "Approve a reply that waits (the approver role), and post it where the source can"
)
_reply_step("post", "post", "Post an approved reply, or retry one left posting or unconfirmed (exactly once)")


@router.post(
    "/replies/{reply_id}/by-hand",
    summary="Record that the approved reply was posted by hand on the source",
    responses=responses(404, 409),
)
def by_hand(
    case_id: int,
    reply_id: int,
    body: ByHand,
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(RESPONDER)],
) -> ReplyOutcome:
    _on_reply(context, case_id, reply_id)
    return _run(context, caller, ReplyAction("by_hand", case_id, reply_id=reply_id, sent=body.sent))


@router.post(
    "/replies/{reply_id}/send-back",
    summary="Send a waiting reply back to its author",
    responses=responses(404, 409),
)
def send_back(
    case_id: int,
    reply_id: int,
    body: SendBack,
    context: Annotated[ApiContext, Depends(api_context)],
    caller: Annotated[Caller, Depends(RESPONDER)],
) -> ReplyOutcome:
    _on_reply(context, case_id, reply_id)
    return _run(context, caller, ReplyAction("send_back", case_id, reply_id=reply_id, reason=body.reason))
