"""The inbox as a care team uses it all day, through AppTest on a real SQLite store: sorting and why a
mention ranks where it does, filters in the link, saved views, the compact layout, bulk actions, undo
and the keys."""

from collections.abc import Callable

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from dashboard.components import FOCUS
from monitor.config import load_config
from monitor.mention import utcnow
from monitor.respond.cases import assign, open_case
from monitor.store.cases import find_case
from monitor.store.mentions import import_mentions
from monitor.store.saved_views import list_views
from monitor.store.schema import label_feedback, mentions
from monitor.store.triage import history
from tests.dashboard.conftest import Seeded, run_app, score
from tests.dashboard.test_other_pages import USERS, _as
from tests.factories import mention


def headlines(app: AppTest) -> list[str]:
    return [m.value for m in app.markdown if "badge[" in m.value]


TEXTS = {
    "m1": "calm neutral words",
    "m2": "mildly annoyed",
    "m3": "alert('x')",
    "m4": "love it",
    "m5": "the reply is broken too",
    "m6": "acme is a bit slow",
}


def order(app: AppTest) -> list[str]:
    """The mentions shown, in order (by their text, in a card or a compact line)."""
    shown: list[str] = []
    for element in app.markdown:
        text = element.value.replace("\\", "")
        for key, words in TEXTS.items():
            if words in text and key not in shown:
                shown.append(key)
    return shown


def param(app: AppTest, name: str) -> list[str]:
    value = app.query_params.get(name)
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def triage_states(seeded: Seeded) -> dict[str, str]:
    with seeded.engine.connect() as connection:
        return dict(connection.execute(select(mentions.c.external_id, mentions.c.triage)).all())


def with_reach(seeded: Seeded) -> None:
    """A loud but mild complaint, m6: 50k followers."""
    import_mentions(
        seeded.engine,
        "acme",
        [mention(6, source="mastodon", text="acme is a bit slow", author_reach=50_000, created_at=utcnow())],
    )
    with seeded.engine.connect() as connection:
        seeded.ids["m6"] = connection.scalar(select(mentions.c.id).where(mentions.c.external_id == "m6"))
    score(seeded.engine, seeded.ids, {"m6": ("negative", 0.55)})


def test_four_sort_orders(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    with_reach(seeded)
    app = run_app()
    assert app.selectbox(key="f_sort").value == "priority"
    assert order(app) == ["m6", "m3", "m2", "m5"]  # 50k followers beat a one-star review
    expected = {
        "newest": ["m6", "m5", "m3", "m2"],
        "reach": ["m6", "m3", "m2", "m5"],  # no reach: by priority
        "most negative": ["m3", "m2", "m5", "m6"],
    }
    for sort, mentions_in_order in expected.items():
        app.selectbox(key="f_sort").set_value(sort).run()
        assert order(app) == mentions_in_order, sort
        assert f"sorted by {sort}" in app.caption[0].value


def test_a_priority_is_explained_in_words_and_numbers(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    with_reach(seeded)
    app = run_app()
    captions = [c.value for c in app.caption if c.value.startswith("Priority")]
    assert captions[0].startswith("Priority: mildly negative · 50k followers · ")  # words, no number
    words = ": strongly negative · 1-star review · no known audience · 1 h ago"
    assert words in captions[1].replace("\\", "")
    tooltip = next(m.proto.help for m in app.markdown if "mastodon" in m.value)
    assert tooltip.startswith("Priority 3.1 = how negative 0.55 × reach 5.70 × freshness 1.00")


def test_filters_sort_and_layout_live_in_the_link(make_store: Callable[[str], Seeded]) -> None:
    make_store("")
    app = run_app()
    assert dict(app.query_params) == {}  # the default inbox needs no query
    app.multiselect(key="f_source").set_value(["reddit"]).run()
    app.selectbox(key="f_sort").set_value("newest").run()
    app.text_input(key="f_search").input("annoyed").run()
    assert param(app, "source") == ["reddit"]
    assert param(app, "sort") == ["newest"]
    assert param(app, "q") == ["annoyed"]
    # A fresh session (a reload, or the link shared) opens the same inbox.
    shared = run_app(query={"source": "reddit", "sort": "newest", "q": "annoyed", "view": "compact"})
    assert shared.multiselect(key="f_source").value == ["reddit"]
    assert shared.selectbox(key="f_sort").value == "newest"
    assert shared.text_input(key="f_search").value == "annoyed"
    assert order(shared) == ["m2"]
    assert "1 mentions match" in shared.caption[0].value


def test_a_link_with_values_that_cannot_be_used_says_so(make_store: Callable[[str], Seeded]) -> None:
    make_store("")
    app = run_app(query={"sort": "loudest", "label": "furious", "min": "-1", "source": "reddit"})
    warnings = " ".join(w.value for w in app.warning).replace("\\", "")
    assert "Ignored sort='loudest' in the link: choose one of priority, newest, reach, most negative." in (
        warnings
    )
    assert "Ignored label='furious' in the link: not one of negative, neutral, positive." in warnings
    assert "Ignored min='-1'" in warnings
    assert app.selectbox(key="f_sort").value == "priority"
    assert app.multiselect(key="f_label").value == ["negative"]
    assert app.multiselect(key="f_source").value == ["reddit"]


def test_filters_survive_a_visit_to_a_mention(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    app = run_app()
    app.multiselect(key="f_source").set_value(["appstore"]).run()
    app.switch_page("views/mention.py").run()
    app.switch_page("views/inbox.py").run()
    assert app.multiselect(key="f_source").value == ["appstore"]
    assert order(app) == ["m3"]
    assert seeded.ids


def test_saved_views_are_per_user_and_reopen_filters_and_link(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store(USERS)
    app = run_app(session=_as("rick"))
    app.multiselect(key="f_source").set_value(["reddit"]).run()
    app.selectbox(key="f_sort").set_value("newest").run()
    app.text_input(key="view_name").input("  reddit,  newest ").run()
    app.button(key="view-save").click().run()
    assert "Saved the view “reddit, newest”." in app.success[0].value.replace("\\", "")
    assert [(v.name, v.params) for v in list_views(seeded.engine, "rick")] == [
        ("reddit, newest", {"source": ["reddit"], "sort": "newest"})
    ]
    assert list_views(seeded.engine, "vera") == []
    # Back to the default inbox, then reopen the view: its filters, and its link.
    app.multiselect(key="f_source").set_value([]).run()
    app.selectbox(key="f_sort").set_value("priority").run()
    assert "source" not in app.query_params
    app.button(key="view-open-0").click().run()
    assert app.multiselect(key="f_source").value == ["reddit"]
    assert param(app, "source") == ["reddit"] and param(app, "sort") == ["newest"]
    assert order(app) == ["m5", "m2"]
    # Another user sees none of rick's views; a nameless view is refused with a reason.
    other = run_app(session=_as("vera"))
    assert not [b for b in other.button if (b.key or "").startswith("view-open")]
    other.button(key="view-save").click().run()
    assert "a saved view needs a name" in other.error[0].value
    app.button(key="view-delete-0").click().run()
    assert list_views(seeded.engine, "rick") == []


def test_compact_layout_is_one_line_a_mention_that_opens_into_its_card(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store("")
    app = run_app()
    app.segmented_control(key="f_layout").set_value("compact").run()
    assert param(app, "view") == ["compact"]
    lines = headlines(app)
    assert len(lines) == 3 and order(app) == ["m3", "m2", "m5"]
    assert "priority" not in lines[0] and "appstore" in lines[0]  # no bare number: the order says it
    assert "<script" in lines[0].replace("\\", "")  # the text, escaped
    assert not app.get("link_button")  # no cards: nothing but the lines
    app.button(key=f"line-open-{seeded.ids['m5']}").click().run()
    assert len(app.get("link_button")) == 1  # m5's card, open under its line
    assert app.button(key=f"inbox-handled-{seeded.ids['m5']}")
    app.button(key=f"line-open-{seeded.ids['m5']}").click().run()
    assert not app.get("link_button")


def pick(app: AppTest, seeded: Seeded, *keys: str) -> AppTest:
    for key in keys:
        app.checkbox(key=f"pick-{seeded.ids[key]}").check()
    return app.run()


def test_mark_a_selection_handled_then_undo_it_through_the_transitions(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store("")
    settings = load_config().responder
    case = open_case(seeded.engine, seeded.ids["m2"], "dana", settings)
    assign(seeded.engine, case.id, "dana", "dana")
    app = pick(run_app(), seeded, "m2", "m5")
    assert "**2 mentions selected**" in [m.value for m in app.markdown]
    app.button(key="bulk-handled").click().run()
    assert triage_states(seeded)["m2"] == "handled" and triage_states(seeded)["m5"] == "handled"
    assert app.metric[0].value == "1"
    assert find_case(seeded.engine, seeded.ids["m2"]).status == "resolved"  # type: ignore[union-attr]
    assert "2 mentions marked handled." in app.success[0].value.replace("\\", "")
    app.button(key="inbox-undo").click().run()
    assert triage_states(seeded)["m2"] == "open" and triage_states(seeded)["m5"] == "open"
    assert app.metric[0].value == "3"
    assert not app.checkbox(key=f"pick-{seeded.ids['m2']}").value  # back, and no longer selected
    restored = find_case(seeded.engine, seeded.ids["m2"])
    assert restored is not None and (restored.status, restored.assignee) == ("new", "dana")
    events = [(e.action, e.before, e.after, e.note) for e in history(seeded.engine, seeded.ids["m2"])]
    assert events[-4:] == [
        ("triage", "open", "handled", None),
        ("status", "new", "resolved", "with the mention"),
        ("status", "resolved", "new", "undo"),
        ("triage", "handled", "open", "undo"),
    ]
    assert "Undone: 2 mentions marked handled." in app.success[0].value.replace("\\", "")
    assert not [b for b in app.button if b.key == "inbox-undo"]


def test_a_cards_not_relevant_can_be_undone(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    app = run_app()
    app.button(key=f"inbox-dismiss-{seeded.ids['m3']}").click().run()
    assert triage_states(seeded)["m3"] == "dismissed"
    assert "1 mention marked not relevant." in app.success[0].value.replace("\\", "")
    app.button(key="inbox-undo").click().run()
    assert triage_states(seeded)["m3"] == "open"
    assert [(e.after, e.note) for e in history(seeded.engine, seeded.ids["m3"])] == [
        ("dismissed", None),
        ("open", "undo"),
    ]


def test_assign_tag_and_relabel_a_selection(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    app = pick(run_app(), seeded, "m2", "m5")
    app.text_input(key="bulk-assignee").input("dana")
    app.button(key="bulk-assign").click().run()
    app = pick(app, seeded, "m2", "m5")
    app.text_input(key="bulk-tag").input("  refund   request ")
    app.button(key="bulk-add-tag").click().run()
    for key in ("m2", "m5"):
        case = find_case(seeded.engine, seeded.ids[key])
        assert case is not None and case.assignee == "dana" and case.tags == ("refund request",)
        actions = [(e.action, e.after, e.actor) for e in history(seeded.engine, seeded.ids[key])]
        assert actions == [
            ("case", "new", "local"),
            ("assign", "dana", "local"),
            ("tags", "refund request", "local"),
        ]
    assert find_case(seeded.engine, seeded.ids["m3"]) is None  # not selected: untouched
    app = pick(app, seeded, "m2", "m5")
    app.selectbox(key="bulk-label").set_value("neutral")
    app.button(key="bulk-relabel").click().run()
    with seeded.engine.connect() as connection:
        query = select(label_feedback.c.mention_id, label_feedback.c.corrected_label)
        corrected = connection.execute(query).all()
    assert sorted(corrected) == sorted([(seeded.ids["m2"], "neutral"), (seeded.ids["m5"], "neutral")])
    assert app.metric[0].value == "1"
    # A tag of nothing is refused with a reason, and opens no case.
    app = pick(app, seeded, "m3")
    app.button(key="bulk-add-tag").click().run()
    assert "a tag needs some text" in app.error[0].value
    assert find_case(seeded.engine, seeded.ids["m3"]) is None


def test_viewers_can_neither_select_nor_act_on_a_selection(make_store: Callable[[str], Seeded]) -> None:
    make_store(USERS)
    viewer = run_app(session=_as("vera"))
    assert not viewer.checkbox and not [b for b in viewer.button if (b.key or "").startswith("bulk-")]
    assert not [b for b in viewer.button if b.key in ("key-handled", "key-assign")]
    viewer.segmented_control(key="f_layout").set_value("compact").run()
    assert not viewer.checkbox
    responder = run_app(session=_as("rick"))
    assert len(responder.checkbox) == 3 and responder.button(key="bulk-all")


def test_keys_move_open_mark_and_assign(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    app = run_app()
    shortcuts = {b.key: b.proto.shortcut for b in app.button if (b.key or "").startswith("key-")}
    assert shortcuts == {
        "key-next": "j",
        "key-previous": "k",
        "key-open": "o",
        "key-handled": "e",
        "key-assign": "a",
        "key-help": "h",
    }
    assert headlines(app)[0].startswith(FOCUS)  # the pointer starts on the first mention
    app.button(key="key-next").click().run()
    assert [h.startswith(FOCUS) for h in headlines(app)] == [False, True, False]
    app.button(key="key-handled").click().run()  # m2, the second
    assert triage_states(seeded)["m2"] == "handled"
    assert order(app) == ["m3", "m5"] and headlines(app)[1].startswith(FOCUS)  # the next one moved up
    app.button(key="key-next").click().run()  # already on the last: stays
    app.button(key="key-previous").click().run()
    app.button(key="key-assign").click().run()
    case = find_case(seeded.engine, seeded.ids["m3"])
    assert case is not None and case.assignee == "local"
    app.button(key="key-help").click().run()
    assert "**J**: next mention" in app.info[0].value
    app.button(key="key-open").click().run()
    assert [t.value for t in app.title] == ["Mention"]
    assert "alert" in " ".join(m.value for m in app.markdown)
