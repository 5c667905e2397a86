"""The author page through AppTest: what they said, their audience and cases, and the VIP mark."""

from collections.abc import Callable

from monitor.config import load_config
from monitor.respond.cases import assign, open_case
from monitor.store.authors import is_vip
from tests.dashboard.conftest import Seeded, markdown_text, run_app
from tests.dashboard.test_inbox_workflow import order
from tests.dashboard.test_other_pages import USERS, _as


def test_author_page_shows_what_they_said_and_their_cases(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    case = open_case(seeded.engine, seeded.ids["m2"], "dana", load_config().responder)
    assign(seeded.engine, case.id, "dana", "dana")
    app = run_app("views/author.py", query={"author": "author2"})
    text = markdown_text(app).replace("\\", "")
    assert "**reddit** · 2 mentions (2 negative) · largest audience unknown" in text
    assert "**new** · reddit · assignee dana" in text
    assert [s.value for s in app.subheader] == ["Cases", "Everything said (2)"]
    assert "mildly annoyed" in text and "the reply is broken too" in text
    assert (
        "No mentions under this name"
        in run_app("views/author.py", query={"author": "nobody"}).warning[0].value
    )
    assert "Open an author" in run_app("views/author.py").info[0].value
    crafted = run_app("views/author.py", query={"author": "author2\x00" + "x" * 10_000})
    assert not crafted.exception and "No mentions under this name" in crafted.warning[0].value


def test_marking_an_author_vip_raises_them_in_the_inbox(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    assert order(run_app()) == ["m3", "m2", "m5"]
    app = run_app("views/author.py", query={"author": "author2"})
    app.button(key="vip-0").click().run()
    assert is_vip(seeded.engine, "reddit", "author2")
    assert "⭐ VIP" in markdown_text(app)
    inbox = run_app()
    assert order(inbox) == ["m2", "m5", "m3"]  # 0.62 and 0.6, doubled, pass m3's 0.9
    assert any("VIP author · negative" in c.value for c in inbox.caption)
    app.button(key="vip-0").click().run()
    assert order(run_app()) == ["m3", "m2", "m5"]


def test_viewers_cannot_mark_a_vip(make_store: Callable[[str], Seeded]) -> None:
    make_store(USERS)
    viewer = run_app("views/author.py", query={"author": "author2"}, session=_as("vera"))
    assert "2 mentions" in markdown_text(viewer)
    assert not [b for b in viewer.button if (b.key or "").startswith("vip")]
    responder = run_app("views/author.py", query={"author": "author2"}, session=_as("rick"))
    assert responder.button(key="vip-0").label == "⭐ Mark VIP"


def test_a_mention_links_to_its_author(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    app = run_app("views/mention.py", query={"id": str(seeded.ids["m2"])})
    links = [link for link in app.get("page_link") if "author" in link.proto.page]
    assert links and links[0].proto.query_string == "author=author2"
