"""The inbox page through AppTest on a real SQLite store."""

from collections.abc import Callable

from sqlalchemy import select

from monitor.store.schema import label_feedback, mentions
from monitor.store.triage import history
from tests.dashboard.conftest import HOSTILE, Seeded, markdown_text, run_app


def card_texts(app) -> list[str]:  # type: ignore[no-untyped-def]
    """The body of each mention card, in order (escaped Markdown, unescaped back for comparison)."""
    return [m.value.replace("\\", "") for m in app.markdown if "badge[" not in m.value]


def test_opens_on_open_negatives_by_priority_with_a_count(make_store: Callable[[str], Seeded]) -> None:
    make_store("")
    app = run_app()
    assert app.title[0].value == "Inbox"
    assert app.metric[0].value == "3"
    headlines = [m.value for m in app.markdown if "badge[" in m.value]
    assert len(headlines) == 3
    assert all(":red-badge[negative]" in h for h in headlines)
    # m3: most negative, loud one-star review -> first; m5 is newest but least negative.
    assert "appstore" in headlines[0]
    assert "3 mentions match" in app.caption[0].value


def test_filters_narrow_the_list(make_store: Callable[[str], Seeded]) -> None:
    make_store("")
    app = run_app()
    app.multiselect(key="f_source").set_value(["reddit"]).run()
    shown = [m.value for m in app.markdown if "badge[" in m.value]
    assert shown and all("reddit" in value for value in shown)
    app.multiselect(key="f_label").set_value(["positive"]).run()
    app.multiselect(key="f_source").set_value([]).run()
    assert any("love it" in text for text in card_texts(app))
    app.multiselect(key="f_label").set_value(["negative", "neutral", "positive"]).run()
    app.text_input(key="f_search").input("ANNOYED").run()
    assert [m.value for m in app.markdown if "badge[" in m.value and "reddit" in m.value]
    assert "1 mentions match" in app.caption[0].value


def test_mark_handled_dismiss_and_relabel_are_recorded(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    app = run_app()
    app.button(key=f"inbox-handled-{seeded.ids['m3']}").click().run()
    assert app.metric[0].value == "2"
    app.button(key=f"inbox-dismiss-{seeded.ids['m2']}").click().run()
    assert app.metric[0].value == "1"
    app.selectbox(key=f"inbox-label-{seeded.ids['m5']}").set_value("neutral").run()
    assert app.metric[0].value == "0"
    with seeded.engine.connect() as connection:
        states = dict(connection.execute(select(mentions.c.external_id, mentions.c.triage)).all())
        feedback = connection.execute(select(label_feedback)).one()
    assert states["m3"] == "handled" and states["m2"] == "dismissed"
    assert (feedback.model_label, feedback.corrected_label, feedback.corrected_by) == (
        "negative",
        "neutral",
        "local",
    )
    assert [(e.action, e.after, e.actor) for e in history(seeded.engine, seeded.ids["m3"])] == [
        ("triage", "handled", "local")
    ]
    # Handled ones are one filter away, and can be reopened.
    app.selectbox(key="f_triage").set_value("handled").run()
    app.button(key=f"inbox-reopen-{seeded.ids['m3']}").click().run()
    assert app.metric[0].value == "1"


def test_hostile_text_is_escaped_and_unsafe_links_dropped(make_store: Callable[[str], Seeded]) -> None:
    make_store("")
    app = run_app()
    text = markdown_text(app)
    assert "\\<script\\>" in text
    assert "\\[click\\]\\(javascript\\:alert\\(1\\)\\)" in text
    assert "\\!\\[beacon\\]" in text
    assert HOSTILE not in text
    links = [button.proto.url for button in app.get("link_button")]
    assert links and all(url.startswith("https://") for url in links)
    assert not any("javascript" in url for url in links)


def test_export_of_the_current_view(make_store: Callable[[str], Seeded]) -> None:
    make_store("")
    app = run_app()
    app.button(key="export_prepare").click().run()
    _, data = app.session_state["export_csv"]
    lines = data.splitlines()
    # The same export as `grumble export --format csv`: `id` is the source's, ours is `mention_id`.
    assert lines[0].startswith("mention_id,id,source")
    assert len(lines) == 1 + 3
    assert all(",negative," in line for line in lines[1:])


def test_an_uncertain_language_and_a_star_verdict_are_flagged_and_explained(
    make_store: Callable[[str], Seeded],
) -> None:
    from models import Score
    from monitor.score.run import score_pending
    from monitor.store.mentions import import_mentions
    from tests.factories import mention

    class SpanishBlindModel:
        version = "v2"
        languages = frozenset({"en"})

        def predict(self, texts: list[str]) -> list[Score]:
            return [
                Score("neutral", 0.05, 0.6, 0.35, "es")
                if "cobró" in t
                else Score("positive", 0.02, 0.1, 0.88, "en")
                for t in texts
            ]

    seeded = make_store("")
    import_mentions(
        seeded.engine,
        "acme",
        [
            mention(20, source="bluesky", text="¡Pésimo servicio! Acme me cobró dos veces y nadie responde."),
            mention(21, source="appstore", text="Lovely design, shame it logs me out hourly", rating=2.0),
        ],
    )
    assert score_pending(seeded.engine, SpanishBlindModel()) == 2
    app = run_app()
    headlines = [m.value for m in app.markdown if "badge[" in m.value]
    spanish = next(h for h in headlines if "bluesky" in h)
    assert ":red-badge[negative] :orange-badge[uncertain · es]" in spanish
    captions = " ".join(c.value for c in app.caption).replace("\\", "")
    assert "written in es, which the model does not read" in captions
    assert "2-star review: the stars decide (the text alone reads positive)" in captions
