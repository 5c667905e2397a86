"""Every error the API answers, as RFC 9457 problem JSON (`application/problem+json`).

A route raises `Problem` (or lets a `GrumbleError` through); `install` turns those, FastAPI's own
validation errors and Starlette's HTTP errors (an unknown path, a wrong method) into one shape:
`type`, `title`, `status`, `detail`, and for bad input `errors`: each field, where it was, what was wrong
and how to fix it. `responses(...)` declares the same shape in the OpenAPI document for a route's codes.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from monitor.errors import ApprovalError, CaseError, GrumbleError, ReplyStateError, ReplyTooLong

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:grumble:problem:"

# slug -> (status, title). The `type` of each problem is TYPE_PREFIX + slug.
KINDS: dict[str, tuple[int, str]] = {
    "bad-request": (400, "Bad request"),
    "unauthenticated": (401, "Authentication required"),
    "forbidden": (403, "Not allowed for this token's role"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "conflict": (409, "Not possible in the current state"),
    "invalid-input": (422, "Invalid input"),
    "rate-limited": (429, "Too many requests"),
    "server-error": (500, "Internal error"),
}
_BY_STATUS = {status: slug for slug, (status, _) in KINDS.items()}


class FieldProblem(BaseModel):
    field: str = Field(description="the field, dotted for a nested one (e.g. `limit`, `tags.3`)")
    location: str = Field(description="where it was: query, path, body or header")
    message: str = Field(description="what was wrong with it")
    fix: str = Field(description="what to send instead")


class ProblemBody(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description=f"a URI naming the kind of problem ({TYPE_PREFIX}<kind>)")
    title: str
    status: int
    detail: str = Field(description="what went wrong with this request and how to fix it")
    errors: list[FieldProblem] = Field(default_factory=list, description="bad input, field by field")


class Problem(Exception):
    """Raised by a route: answered as problem JSON with `status` and `detail`."""

    def __init__(
        self,
        kind: str,
        detail: str,
        errors: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return KINDS[self.kind][0]


def problem_response(problem: Problem) -> JSONResponse:
    status, title = KINDS[problem.kind]
    body = ProblemBody(
        type=TYPE_PREFIX + problem.kind,
        title=title,
        status=status,
        detail=problem.detail,
        errors=problem.errors,
    )
    return JSONResponse(body.model_dump(), status_code=status, media_type=MEDIA_TYPE, headers=problem.headers)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI declaration of a route's error answers, e.g. `responses=responses(404, 409)`; every
    route taking a token adds auth.AUTH_RESPONSES (401, 403, 422, 429)."""
    return {
        status: {
            "model": ProblemBody,
            "description": KINDS[_BY_STATUS[status]][1],
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemBody"}}},
        }
        for status in statuses
    }


_BOUNDS = {"ge": "of at least", "gt": "above", "le": "of at most", "lt": "below"}


def _fix(error: dict[str, Any]) -> str:
    """What to send instead, from pydantic's error type and context."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind == "missing":
        return "add this field"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bounds = " and ".join(
            f"{_BOUNDS[name]} {value}" for name, value in context.items() if name in _BOUNDS
        )
        return f"send a number {bounds}"
    if kind in ("int_parsing", "int_type", "float_parsing", "float_type"):
        return "send a number"
    if kind in ("string_too_long", "too_long"):
        unit = "characters" if kind.startswith("string") else "items"
        return f"send at most {context.get('max_length')} {unit}"
    if kind in ("string_too_short", "too_short"):
        unit = "characters" if kind.startswith("string") else "items"
        return f"send at least {context.get('min_length')} {unit}"
    if kind in ("literal_error", "enum"):
        return f"send one of {context.get('expected', 'the listed values')}"
    if kind == "extra_forbidden":
        return "remove this field"
    if kind.startswith("json") or kind == "model_attributes_type":
        return "send a JSON object as the body, with Content-Type: application/json"
    return "correct the value as the message says"


def _field_problem(error: dict[str, Any]) -> FieldProblem:
    location = [str(part) for part in error.get("loc", ())]
    where = location[0] if location else "body"
    name = ".".join(location[1:]) or where
    return FieldProblem(field=name, location=where, message=str(error.get("msg", "")), fix=_fix(error))


def invalid_input(errors: list[FieldProblem]) -> Problem:
    listed = "; ".join(f"{e.field}: {e.message} ({e.fix})" for e in errors)
    return Problem("invalid-input", f"Fix these and send the request again: {listed}.", errors)


def _grumble_problem(exc: GrumbleError) -> Problem:
    """A refusal from monitor/ (a case or reply that cannot move so, a text too long) in its own words."""
    if isinstance(exc, ReplyTooLong):
        return Problem("invalid-input", str(exc))
    if isinstance(exc, ApprovalError):
        return Problem("forbidden", str(exc))
    if isinstance(exc, ReplyStateError | CaseError):
        return Problem("conflict", str(exc))
    return Problem("bad-request", str(exc))


def install(app: FastAPI) -> None:
    """Answer every error of `app` as problem JSON."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(invalid_input([_field_problem(dict(e)) for e in exc.errors()]))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        slug = _BY_STATUS.get(exc.status_code, "bad-request")
        detail = exc.detail if isinstance(exc.detail, str) else KINDS[slug][1]
        if exc.status_code == 404:
            detail = f"No such path: {request.url.path}. The OpenAPI document (openapi.json) lists them."
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}; see openapi.json."
        return problem_response(Problem(slug, detail, headers=dict(exc.headers or {})))

    async def on_grumble(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GrumbleError)
        return problem_response(_grumble_problem(exc))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("API error on %s %s", request.method, request.url.path)
        return problem_response(Problem("server-error", "Something failed on the server; it is logged."))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(GrumbleError, on_grumble)
    app.add_exception_handler(Exception, on_unexpected)
