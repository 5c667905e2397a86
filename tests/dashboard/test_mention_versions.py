"""The mention page shows an edited mention's earlier versions, why its case reopened, and that its
author deleted it: through AppTest on a seeded store."""

from collections.abc import Callable

from monitor.collect.saving import save_page
from monitor.config import ResponderSettings
from monitor.mention import utcnow
from monitor.respond.cases import open_case, set_status
from monitor.store.edits import mark_deleted
from tests.dashboard.conftest import Seeded, markdown_text, run_app
from tests.factories import mention


def test_an_edited_review_lists_what_it_said_before_and_why_its_case_reopened(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store("")
    case = open_case(seeded.engine, seeded.ids["m4"], "sam", ResponderSettings())
    set_status(seeded.engine, case.id, "resolved", "sam")
    # m4 is the seeded App Store mention "love it", with no stars; now one star and other words.
    edited = mention(4, source="appstore", text="it deleted my data", rating=1)
    assert save_page(seeded.engine, "acme", "appstore", [edited], None).edited == 1

    app = run_app("views/mention.py", query={"id": str(seeded.ids["m4"])})

    text = markdown_text(app).replace("\\", "")
    assert "it deleted my data" in text
    assert "edited 1 min ago: was 'love it'" in text
    assert "The author edited it: text changed; rating none -> 1" in text
    assert [e.label for e in app.expander if e.label.startswith("Earlier")] == ["Earlier versions (1)"]
    [reopened] = [i.value for i in app.info if i.value.startswith("Reopened")]
    assert reopened.replace("\\", "") == (
        "Reopened: the customer edited the review after the case was resolved: text changed; rating none -> 1"
    )
    assert not [w for w in app.warning if "deleted this post" in w.value]


def test_a_deleted_post_says_so_on_its_case(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    with seeded.engine.begin() as connection:
        assert mark_deleted(connection, "reddit", ["m2"], utcnow()) == 1

    app = run_app("views/mention.py", query={"id": str(seeded.ids["m2"])})

    [notice] = [w.value for w in app.warning if "deleted this post" in w.value]
    assert notice.startswith("The author deleted this post on ")
    assert "The author deleted the post." in markdown_text(app).replace("\\", "")
    untouched = run_app("views/mention.py", query={"id": str(seeded.ids["m1"])})
    assert not [w for w in untouched.warning if "deleted this post" in w.value]
    assert not [e for e in untouched.expander if e.label.startswith("Earlier")]
