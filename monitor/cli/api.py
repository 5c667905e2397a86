"""`grumble api` (the REST API alone, without the dashboard) and `grumble token create | list | revoke`
(the API's bearer tokens, monitor/store/api_tokens.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime

from monitor.cli.common import config_of
from monitor.store.engine import connect

Handler = Callable[[argparse.Namespace], int]


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    from monitor.api.app import PREFIX, api_server

    config = config_of(args)
    engine = connect(config.database_url)
    host, port = args.host or config.api.host, args.port or config.api.port
    print(f"API: http://{host}:{port}{PREFIX}/ (documentation: {PREFIX}/docs)", flush=True)
    uvicorn.run(api_server(engine, config), host=host, port=port, log_level="warning")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from monitor.store.api_tokens import create_token

    engine = connect(config_of(args).database_url)
    token = create_token(engine, args.name, args.role)
    print(token)
    print(
        f"(token {args.name!r}, role {args.role}: shown once, keep it secret; "
        f"`grumble token revoke {args.name}` ends it)",
        flush=True,
    )
    return 0


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "never"


def cmd_token_list(args: argparse.Namespace) -> int:
    from monitor.store.api_tokens import list_tokens

    tokens = list_tokens(connect(config_of(args).database_url))
    if not tokens:
        print("no API tokens: `grumble token create --name NAME --role ROLE` makes one")
        return 0
    print(f"{'NAME':<24} {'ROLE':<10} {'CREATED':<21} {'LAST USED':<21} STATE")
    for token in tokens:
        state = "active" if token.active else f"revoked {_when(token.revoked_at)}"
        print(
            f"{token.name:<24} {token.role:<10} {_when(token.created_at):<21} "
            f"{_when(token.last_used_at):<21} {state}"
        )
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from monitor.store.api_tokens import revoke_token

    token = revoke_token(connect(config_of(args).database_url), args.name)
    print(f"token {token.name!r} revoked: its next request is refused")
    return 0


def add_api_commands(command: Callable[[str, Handler, str], argparse.ArgumentParser]) -> None:
    """The `api` and `token` commands, added through the parser's `command` helper."""
    from monitor.auth.users import ROLES

    api = command("api", cmd_api, "Serve the REST API alone (the dashboard serves it too, under /api/v1).")
    api.add_argument("--host", help="address to listen on (default: [api] host, else localhost)")
    api.add_argument("--port", type=int, help="port (default: [api] port, else 8502)")

    # An action is required, so the group's own handler never runs.
    token = command("token", cmd_token_list, "Make, list and revoke REST API tokens.")
    actions = token.add_subparsers(title="actions", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="make a token; it is printed once")
    create.set_defaults(handler=cmd_token_create)
    create.add_argument("--name", required=True, help="the person or integration holding it")
    create.add_argument(
        "--role", required=True, choices=ROLES, help="viewer reads; responder also answers; admin all"
    )
    listing = actions.add_parser("list", help="every token: role, created, last used, revoked")
    listing.set_defaults(handler=cmd_token_list)
    revoke = actions.add_parser("revoke", help="end a token: its next request is refused")
    revoke.set_defaults(handler=cmd_token_revoke)
    revoke.add_argument("name", help="the token's name")
