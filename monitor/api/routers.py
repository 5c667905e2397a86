"""Every router the API serves, in the order the OpenAPI document lists them. Add yours here (see
monitor/api/__init__.py)."""

from __future__ import annotations

from fastapi import APIRouter

from monitor.api.cases import router as cases
from monitor.api.helpdesk_routes import router as helpdesk
from monitor.api.mentions import router as mentions
from monitor.api.replies import router as replies
from monitor.api.sources import router as sources
from monitor.api.webhook_routes import router as webhooks

ROUTERS: list[APIRouter] = [
    mentions,
    cases,
    replies,
    sources,
    helpdesk,
    webhooks,
]
