"""The case panel's "Send to helpdesk" part: a button per configured helpdesk not yet sent to (a picker
when several are), and once sent, the link to the conversation and what the helpdesk last said.

Also the inbox bulk bar's "Send to helpdesk" (`bulk_helpdesk`). It only draws: the hand-off is
monitor/helpdesk/handoff.py and rules.py, exactly once per mention and helpdesk."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st
from sqlalchemy import Engine

from dashboard import context
from dashboard.context import acting
from dashboard.panel_message import say, say_failed
from dashboard.safe import plain
from dashboard.times import shown_time
from monitor.auth.users import User
from monitor.config import Config
from monitor.config.helpdesk import HelpdeskSettings
from monitor.errors import GrumbleError
from monitor.helpdesk.handoff import send_to_helpdesk
from monitor.helpdesk.registry import Helpdesks
from monitor.helpdesk.rules import send_many
from monitor.store.cases import Case
from monitor.store.helpdesk_links import HelpdeskLink, links_for_mention
from monitor.surface.render import plural

NAMES = {"chatwoot": "Chatwoot", "zammad": "Zammad", "freescout": "FreeScout"}


@st.cache_resource(show_spinner=False)
def _helpdesks(_settings: HelpdeskSettings, where: str) -> Helpdesks:
    """One set of clients per configuration (`where` names it), kept across reruns with their pools."""
    return Helpdesks(_settings)


def _clients(config: Config) -> Helpdesks:
    accounts = config.helpdesk.accounts.values()
    where = ";".join(f"{a.name}={a.base_url}@{a.timeout_s}" for a in accounts)
    return _helpdesks(config.helpdesk, where)


def _send(
    engine: Engine, mention_id: int, choice_key: str, names: list[str], actor: str, config: Config
) -> None:
    name = str(st.session_state.get(choice_key) or names[0])
    try:
        link = send_to_helpdesk(engine, mention_id, _clients(config).get(name), actor, config.responder)
    except GrumbleError as exc:
        then = f"Check [helpdesk.{name}] in grumble.toml and that it is reachable, then send again."
        say_failed(f"Not sent to {name}", exc, then)
        return
    if link.sent:
        say("success", f"Sent to {NAMES.get(name, name)}: {link.remote_url}")
    elif link.state == "unconfirmed":
        say("warning", f"Not confirmed: {link.error} Send again to look for it first.")
    else:
        say("error", f"Not sent: {link.error}")


def _shown(link: HelpdeskLink) -> None:
    name = NAMES.get(link.helpdesk, link.helpdesk)
    if link.sent and link.remote_url:
        status = f" · {plain(link.remote_status)} there" if link.remote_status else ""
        sent = f" {shown_time(link.sent_at)}" if link.sent_at else ""
        st.caption(f"📨 Sent to {name}{sent}{status}")
        st.link_button(f"Open in {name}", link.remote_url, key=f"helpdesk-open-{link.id}")
        return
    retry = f"; tried again by itself at {shown_time(link.next_attempt_at)}" if link.next_attempt_at else ""
    st.caption(f"📨 {name}: {link.state} ({plain(link.error, 300)}){retry}")


def helpdesk_panel(engine: Engine, case: Case, config: Config, user: User) -> None:
    """Under the case: nothing when no helpdesk is configured."""
    configured = list(config.helpdesk.names)
    if not configured:
        return
    links = {link.helpdesk: link for link in links_for_mention(engine, case.mention_id)}
    for link in links.values():
        _shown(link)
    unsent = [name for name in configured if not (name in links and links[name].sent)]
    if not unsent or not user.can("responder"):
        return
    key = f"case-{case.id}-helpdesk"
    if len(unsent) > 1:
        st.selectbox("Helpdesk", unsent, format_func=lambda n: NAMES.get(n, n), key=f"{key}-choice")
    label = "Send to helpdesk" if len(unsent) > 1 else f"Send to {NAMES.get(unsent[0], unsent[0])}"
    st.button(
        label,
        key=f"{key}-send",
        on_click=acting(_send),
        args=(engine, case.mention_id, f"{key}-choice", unsent, user.name, config),
    )


def _send_many(engine: Engine, ids: list[int], actor: str, config: Config) -> None:
    configured = list(config.helpdesk.names)
    name = str(st.session_state.get("bulk-helpdesk") or configured[0])
    outcomes = send_many(engine, ids, name, _clients(config), actor, config.responder)
    sent = sum(1 for outcome in outcomes if outcome.link is not None and outcome.link.sent)
    others = [
        outcome.describe() for outcome in outcomes if not (outcome.link is not None and outcome.link.sent)
    ]
    if not others:
        say("success", f"{plural(sent, 'mention')} sent to {NAMES.get(name, name)}.")
        return
    say(
        "warning",
        f"{plural(sent, 'mention')} sent to {NAMES.get(name, name)}; not sent: " + "; ".join(others),
    )


def bulk_helpdesk(engine: Engine, ids: Sequence[int], user: User) -> None:
    """The inbox bulk bar's part (dashboard/inbox_actions.py): hand the selection to a helpdesk, each
    mention once (one already there is not sent again). Nothing when no helpdesk is configured."""
    config = context.config()
    configured = list(config.helpdesk.names)
    if not configured or not user.can("responder"):
        return
    choice, send = st.columns(2, vertical_alignment="bottom")
    if len(configured) > 1:
        choice.selectbox("Helpdesk", configured, format_func=lambda n: NAMES.get(n, n), key="bulk-helpdesk")
    label = (
        "📨 Send to helpdesk"
        if len(configured) > 1
        else f"📨 Send to {NAMES.get(configured[0], configured[0])}"
    )
    send.button(
        label,
        key="bulk-helpdesk-send",
        on_click=acting(_send_many),
        args=(engine, list(ids), user.name, config),
    )
