"""Two processes running the notify job at once (two `grumble worker`s, or a worker and a scheduler)
tell each person once and mail each notification once: real processes, one store, one SMTP server on
loopback that answers slowly, so the second process arrives while the first is still sending."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from monitor.mention import utcnow
from monitor.respond.cases import add_note, assign, open_case
from monitor.store import notifications as store
from monitor.team.fanout import SETTLE
from tests.alerts.conftest import MailSink, StartServer, run_together, smtp_toml
from tests.team.conftest import HASH, TEAM, TeamStore, team_config

# PostgreSQL: where several processes run jobs (`grumble worker`s); on SQLite one scheduler runs them.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]


class SlowSink(MailSink):
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.6)  # three messages: the second process arrives mid-send
        return await super().handle_DATA(server, session, envelope)


def write_config(folder: Path, database_url: str, port: int) -> Path:
    users = "".join(
        f'[[users]]\nname = "{u["name"]}"\nrole = "{u["role"]}"\npassword_hash = "{HASH}"\n'
        + (f'email = "{u["email"]}"\n' if "email" in u else "")
        for u in TEAM
    )
    path = folder / "grumble.toml"
    path.write_text(
        f'database_url = "{database_url}"\n[[watches]]\nname = "acme"\n'
        f'[dashboard]\npublic_url = "https://grumble.example"\n{smtp_toml(port)}{users}',
        encoding="utf-8",
    )
    return path


def test_two_notify_runs_at_once_tell_and_mail_each_person_once(
    database_url: str, engine: Engine, team: TeamStore, smtp_server: StartServer, tmp_path: Path
) -> None:
    server = smtp_server("none", sink=SlowSink())
    settings = team_config().responder
    made = utcnow() - SETTLE  # settled, so the first run's cursor passes them
    case = open_case(engine, team.ids[0], "sam", settings, made)
    assign(engine, case.id, "dana", "sam", made)
    add_note(engine, case.id, "@dana @alex @rick please call them back", "sam", made)
    config = write_config(tmp_path, database_url, server.port)
    command = [sys.executable, "-m", "tests.team.notify_once", str(config)]

    results = run_together(command, command)

    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert Counter(m["To"] for m in server.messages) == {"dana@example.com": 2, "alex@example.com": 1}
    assert len({m["Message-ID"] for m in server.messages}) == 3
    assert {n.kind for n in store.for_recipient(engine, "dana")} == {"assigned", "mentioned"}
    assert [n.email_state for n in store.for_recipient(engine, "rick")] == ["off"]  # no address
    assert all(n.email_state == "sent" for n in store.for_recipient(engine, "dana"))
