"""Times in the reader's zone on every page, and the banner after grumble.toml is edited."""

from collections.abc import Callable

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.respond.cases import add_note, open_case
from monitor.store.cases import find_case
from monitor.store.triage import history
from monitor.surface.render import zoned_time
from tests.dashboard.conftest import Seeded, markdown_text, run_app

ZONES = """
[dashboard]
timezone = "Asia/Kolkata"
[[users]]
name = "nia"
role = "responder"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
timezone = "America/New_York"
[[users]]
name = "kai"
role = "responder"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="
"""


def _as(name: str) -> dict[str, object]:
    return {"grumble_user": next(u for u in load_config().users if u.name == name)}


def test_the_mention_page_shows_times_in_the_readers_zone(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store(ZONES)
    mention_id = seeded.ids["m2"]
    open_case(seeded.engine, mention_id, "nia", load_config().responder)
    add_note(seeded.engine, find_case(seeded.engine, mention_id).id, "called them back", "nia")  # type: ignore[union-attr]
    [opened, noted] = history(seeded.engine, mention_id)
    for name, zone in (("nia", "America/New_York"), ("kai", "Asia/Kolkata")):
        app = run_app("views/mention.py", query={"id": str(mention_id)}, session=_as(name))
        text = markdown_text(app).replace("\\", "")
        # The history, the case's notes and its clock, each in the reader's zone, none in UTC.
        assert f"{zoned_time(opened.at, zone)} · nia opened a case." in text
        assert f"{zoned_time(noted.at, zone)} · nia added a note: called them back" in text
        clock = next(c.value for c in app.caption if "case opened" in c.value)
        assert f"case opened {zoned_time(opened.at, zone)}" in clock and "UTC" not in clock


def test_an_unknown_time_zone_is_a_clear_configuration_error(make_store: Callable[[str], Seeded]) -> None:
    make_store('[dashboard]\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(ConfigError, match=r"dashboard.timezone: expected an IANA time zone"):
        load_config()


def test_an_edited_config_file_shows_a_restart_banner(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    app = run_app()
    assert not [w for w in app.warning if "grumble.toml changed" in w.value]
    # Saved unchanged: no banner (the content is compared, not the file's time).
    seeded.config.write_text(seeded.config.read_text(encoding="utf-8"), encoding="utf-8")
    app.run()
    assert not [w for w in app.warning if "grumble.toml changed" in w.value]
    with seeded.config.open("a", encoding="utf-8") as file:
        file.write('\n[[watches]]\nname = "globex"\nkeywords = ["globex"]\n[watches.sources.demo]\n')
    app.run()
    [banner] = [w.value for w in app.warning if "grumble.toml changed since start" in w.value]
    assert "restart `grumble up`" in banner
