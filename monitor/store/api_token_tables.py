"""The REST API's bearer tokens (monitor/api/auth.py, monitor/store/api_tokens.py). schema.py re-exports
this table; import it from there."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, UniqueConstraint

from monitor.store.dialects import UTCDateTime
from monitor.store.mention_tables import metadata

# One row per token, named after the person or integration holding it. Only the SHA-256 of the token is
# kept: the token itself is shown once, when it is made (`grumble token create`).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
    UniqueConstraint("name", name="uq_api_tokens_name"),
    UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
)
