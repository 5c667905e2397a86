"""The helpdesk clients by name, built from `[helpdesk.<name>]`; one line per helpdesk."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from monitor.config.helpdesk import HelpdeskAccount, HelpdeskSettings
from monitor.errors import ConfigError
from monitor.helpdesk.base import Helpdesk
from monitor.helpdesk.chatwoot import Chatwoot
from monitor.helpdesk.freescout import FreeScout
from monitor.helpdesk.zammad import Zammad

CLIENTS: dict[str, Callable[[HelpdeskAccount, httpx.Client | None], Helpdesk]] = {
    "chatwoot": Chatwoot,
    "zammad": Zammad,
    "freescout": FreeScout,
}


class Helpdesks:
    """The configured helpdesks' clients, each built on first use and kept (its connection pool too)."""

    def __init__(self, settings: HelpdeskSettings) -> None:
        self.settings = settings
        self._built: dict[str, Helpdesk] = {}

    def get(self, name: str) -> Helpdesk:
        if name not in self._built:
            account = self.settings.accounts.get(name)
            if account is None:
                configured = ", ".join(self.settings.names) or "none"
                raise ConfigError(
                    f"no [helpdesk.{name}] is configured (configured: {configured}); add one to grumble.toml"
                )
            self._built[name] = CLIENTS[name](account, None)
        return self._built[name]
