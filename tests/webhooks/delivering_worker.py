"""Run by the webhook process tests in a subprocess (killed with SIGKILL mid-delivery, or two at once):
one pass of the webhook job, to the receiver at argv[2], on the database at argv[1], every event type
subscribed, the secret from HOOK_SECRET. Imports only what the job needs, to start quickly."""

from __future__ import annotations

import os
import sys

from monitor.config import parse_config
from monitor.store.engine import connect
from monitor.webhooks.delivery import WebhookDelivery, http_client
from monitor.webhooks.event_types import EVENT_TYPES

if __name__ == "__main__":
    database_url, url = sys.argv[1], sys.argv[2]
    hook = {"name": "helpdesk", "url": url, "events": list(EVENT_TYPES), "secret_env": "HOOK_SECRET"}
    data = {"database_url": database_url, "watches": [{"name": "acme"}], "webhooks": {"endpoints": [hook]}}
    config = parse_config(data, None, dict(os.environ))
    WebhookDelivery(config, connect(database_url), http=http_client()).run()
