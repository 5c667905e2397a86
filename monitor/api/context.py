"""What every route of one API app shares: the database, the configuration, the per-token rate limit and
the sources that post replies. Built once by `build_api` and kept on `app.state`."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Engine

from monitor.config import Config
from monitor.respond.workflow import Repliers
from monitor.token_bucket import Bucket


@dataclass(frozen=True)
class ApiContext:
    engine: Engine
    config: Config
    bucket: Bucket
    repliers: Repliers


async def api_context(request: Request) -> ApiContext:
    """The dependency routes take: `context: Annotated[ApiContext, Depends(api_context)]`. Async only
    because it does no I/O: FastAPI would run a plain function in a worker thread."""
    context = request.app.state.grumble
    assert isinstance(context, ApiContext)
    return context
