"""`[api]`: the REST API (monitor/api/): how many requests a minute each token may send, and where
`grumble api` listens (the dashboard serves the API on its own port too).

[api]
requests_per_minute = 120   # per token, counted in the database by every process serving the API
host = "localhost"          # `grumble api`
port = 8502
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.config.tables import MAX_PORT, TableReader

API_KEYS = {"requests_per_minute", "host", "port"}


@dataclass(frozen=True)
class ApiSettings:
    # A script paging through the inbox or an integration answering cases: well under one request a
    # second on average, with room for a burst.
    requests_per_minute: int = 120
    host: str = "localhost"
    port: int = 8502  # beside the dashboard's 8501


def parse_api(root: TableReader) -> ApiSettings:
    reader = root.sub("api")
    reader.reject_unknown(API_KEYS)
    defaults = ApiSettings()
    return ApiSettings(
        requests_per_minute=reader.integer("requests_per_minute", defaults.requests_per_minute, minimum=1),
        host=reader.string("host") or defaults.host,
        port=reader.integer("port", defaults.port, minimum=1, maximum=MAX_PORT),
    )
