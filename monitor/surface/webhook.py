"""Post alerts to a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, Teams' Slack mode)
through an injected httpx.Client.

The webhook URL is a secret (whoever has it can post to the channel): errors name its host only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from monitor.errors import WebhookError

TIMEOUT_S = 15.0


def http_client() -> httpx.Client:
    """A client for webhook posts; redirects are not followed, so the payload goes to the configured
    host or nowhere."""
    return httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)


class Webhook:
    def __init__(self, url: str, client: httpx.Client) -> None:
        self.url = url
        self.client = client

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc or "the configured host"

    def post(self, payload: Mapping[str, Any]) -> None:
        try:
            response = self.client.post(self.url, json=dict(payload))
        except httpx.HTTPError as exc:
            raise WebhookError(
                f"cannot reach the alert webhook at {self.host}: {exc or type(exc).__name__}; "
                "check [alerts] webhook_url (or GRUMBLE_ALERTS_WEBHOOK_URL)"
            ) from None
        if not response.is_success:
            body = response.text[:200].strip()
            hint = (
                "; the webhook URL is wrong or was revoked: check [alerts] webhook_url"
                if response.status_code in (401, 403, 404, 410)
                else ""
            )
            raise WebhookError(
                f"the alert webhook at {self.host} answered {response.status_code} {body}{hint}"
            )
