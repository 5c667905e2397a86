"""The REST API under /api/v1 (FastAPI): served by `grumble dashboard` beside the dashboard and alone by
`grumble api`.

How to add a router (one module, one line):

1. Write `monitor/api/<name>.py` with `router = APIRouter(prefix="/<things>", tags=["<things>"],
   responses=AUTH_RESPONSES)`; each route takes its caller with the role it needs,
   `caller: Annotated[Caller, Depends(VIEWER)]` (or RESPONDER, ADMIN; monitor/api/auth.py), and its
   shared parts with `context: Annotated[ApiContext, Depends(api_context)]` (context.py). Declare every
   other error status it answers with `responses=problems.responses(404, 409)` and raise
   `problems.Problem("not-found", "what to fix")`; a `GrumbleError` from monitor/ is answered too.
   A route that is not called with a token (an inbound webhook checking its own signature) leaves out
   AUTH_RESPONSES and the Caller.
2. Add it to ROUTERS in monitor/api/routers.py.

Routes return pydantic models (monitor/api/models.py holds the shared ones), so the OpenAPI document at
/api/v1/openapi.json is generated from the code, and tests/api/test_contract.py checks every route
answers with the status codes and shapes it declares.
"""
