"""A 1 MB mention through AppTest: its inbox card sends a bounded preview (the whole text went to the
browser inside the closed "Full text", 31 s to draw), its page offers the whole text as a download."""

from collections.abc import Callable

from monitor.store.mentions import import_mentions
from tests.dashboard.conftest import Seeded, run_app, score
from tests.factories import mention

MEGABYTE_POST = "refund refused, order lost, nobody answers. " * 24_000


def _elements_text(app: object) -> int:
    return sum(len(element.value) for element in app.markdown)  # type: ignore[attr-defined]


def test_a_megabyte_mention_sends_a_bounded_card_and_downloads_whole(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store("")
    baseline = _elements_text(run_app())
    import_mentions(seeded.engine, "acme", [mention(900, text=MEGABYTE_POST, source="rss")])
    ids = {"big": next(i for i in _ids(seeded) if i not in seeded.ids.values())}
    score(seeded.engine, ids, {"big": ("negative", 0.99)})
    inbox = run_app()
    # The card: a 400-character preview and at most 3,000 more in its expander, not a megabyte.
    assert _elements_text(inbox) - baseline < 5_000
    assert any("open Details for the whole text" in m.value for m in inbox.markdown)
    page = run_app("views/mention.py", query={"id": str(ids["big"])})
    assert any("40,000 of its" in c.value for c in page.caption)
    assert [b.label for b in page.get("download_button")] == ["Download the whole text"]


def _ids(seeded: Seeded) -> list[int]:
    from monitor.store.filters import MentionFilter
    from monitor.store.mentions import iter_all

    return [row["id"] for row in iter_all(seeded.engine, MentionFilter())]
