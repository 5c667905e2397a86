"""A care team's queues on the inbox page (AppTest on a real SQLite store): each filter and queue with
its count, all in the link; views shared with the team; competitor watches out of the inbox, its
counter and the digest unless asked for; a replied mention leaving the unhandled ones; an undo refused
once someone changed the mention; and the one table that ties a view's fields, links and widgets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from dashboard.components import FOCUS
from dashboard.inbox_state import WIDGETS
from monitor.auth.users import hash_password
from monitor.config import ResponderSettings, load_config
from monitor.mention import utcnow
from monitor.respond.bulk import mark
from monitor.respond.cases import assign, open_case, set_status, set_tags
from monitor.respond.transitions import apply_transition
from monitor.store.cases import find_case, update_case
from monitor.store.mentions import import_mentions
from monitor.store.saved_views import save_view
from monitor.store.schema import case_replies, mentions
from monitor.surface.digest_delivery import preview
from monitor.surface.inbox_view import FIELDS, PARAMS, InboxView, from_params
from tests.dashboard.conftest import Seeded, markdown_text, run_app, score
from tests.dashboard.test_inbox_workflow import headlines, order, param, triage_states
from tests.factories import mention

SETTINGS = ResponderSettings()
TEAM = f"""
[[users]]
name = "dana"
role = "admin"
password_hash = "{hash_password("admin-pass")}"
[[users]]
name = "rick"
role = "responder"
password_hash = "{hash_password("resp-pass")}"
"""
# acme, with globex as its competitor, and a digest list for every watch.
COMPETITORS = """
[[watches]]
name = "acme"
keywords = ["acme"]
competitors = ["globex"]
[watches.sources.demo]
[[watches]]
name = "globex"
keywords = ["globex"]
[watches.sources.demo]
[[digests]]
name = "care"
recipients = ["care@example.com"]
"""


def _as(name: str) -> dict[str, object]:
    return {"grumble_user": next(u for u in load_config().users if u.name == name)}


def _team(make_store: Callable[[str], Seeded]) -> Seeded:
    """The seeded store (negatives m2, m3, m5) worked by dana (admin) and rick (responder): m3 is
    rick's and tagged refund; m5 is overdue; m2 has rick's reply waiting for approval."""
    seeded = make_store(TEAM)
    engine, ids = seeded.engine, seeded.ids
    long_ago = utcnow() - timedelta(days=1)
    rick = open_case(engine, ids["m3"], "rick", SETTINGS)
    assign(engine, rick.id, "rick", "rick")
    set_tags(engine, rick.id, ["refund"], "rick")
    late = open_case(engine, ids["m5"], "dana", SETTINGS)
    waiting = open_case(engine, ids["m2"], "rick", SETTINGS)
    with engine.begin() as connection:
        update_case(connection, late.id, response_due_at=long_ago)
        apply_transition(connection, ids["m2"], "reply", "awaits_approval", "rick", utcnow())
        connection.execute(
            case_replies.insert().values(
                case_id=waiting.id,
                source="reddit",
                status="awaiting_approval",
                text="sorry about that",
                idempotency_key="k2",
                author="rick",
                attempts=0,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    return seeded


def _queues(app: AppTest) -> dict[str, str]:
    return {str(b.key): b.label for b in app.button if (b.key or "").startswith("queue-")}


def test_the_view_s_fields_links_widgets_and_filters_are_one_table(
    make_store: Callable[[str], Seeded],
) -> None:
    make_store("")
    assert set(FIELDS) == {item.name for item in fields(InboxView)}
    assert len({s.link for s in FIELDS.values()}) == len(FIELDS) == len(set(WIDGETS.values()))
    assert {name: setting.link for name, setting in FIELDS.items()} == PARAMS
    app = run_app()
    kinds = ("text_input", "multiselect", "selectbox", "toggle", "number_input", "button_group")
    drawn = {widget.key for kind in kinds for widget in app.get(kind)}
    assert set(WIDGETS.values()) <= drawn, set(WIDGETS.values()) - drawn
    # Every field set away from its default reaches the link, comes back from it, and changes the filter.
    changed: dict[str, Any] = {
        "search": "refund",
        "watches": ("acme",),
        "sources": ("reddit",),
        "labels": (),
        "show": "all",
        "period": "7d",
        "min_priority": 1.5,
        "sort": "newest",
        "layout": "compact",
        "assignee": "rick",
        "case_statuses": ("new",),
        "tags": ("refund",),
        "overdue": True,
        "awaiting_my_approval": True,
        "competitors": True,
        "topics": ("1",),
    }
    assert set(changed) == set(FIELDS)
    now = utcnow()
    default_filter = InboxView().to_filter(now, "dana", ["globex"])
    for name, value in changed.items():
        view = replace(InboxView(), **{name: value})
        query = {k: v if isinstance(v, list) else [v] for k, v in view.to_params().items()}
        assert list(query) == [FIELDS[name].link]
        assert from_params(query, ["acme"], ["reddit"], ["rick"]) == (view, []), name
        if name not in ("sort", "layout"):  # the order and layout are not a filter
            assert view.to_filter(now, "dana", ["globex"]) != default_filter, name


def test_queues_show_their_counts_and_open_in_one_click_into_the_link(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = _team(make_store)
    dana = run_app(session=_as("dana"))
    assert _queues(dana) == {
        "queue-mine": "Assigned to me · 0",
        "queue-unassigned": "Unassigned · 2",
        "queue-overdue": "Overdue · 1",
        "queue-approval": "Waiting for my approval · 1",
    }
    dana.button(key="queue-overdue").click().run()
    assert order(dana) == ["m5"] and param(dana, "overdue") == ["1"]
    dana.button(key="queue-approval").click().run()
    assert order(dana) == ["m2"] and param(dana, "approval") == ["1"] and param(dana, "show") == ["all"]
    assert param(dana, "overdue") == []  # a queue replaces the other filters

    rick = run_app(session=_as("rick"))
    assert "queue-approval" not in _queues(rick)  # a responder approves nothing
    assert _queues(rick)["queue-mine"] == "Assigned to me · 1"
    rick.button(key="queue-mine").click().run()
    assert order(rick) == ["m3"] and param(rick, "assignee") == ["me"]
    # The same link opened by someone who cannot approve says why the approval part is left out.
    refused = run_app(query={"approval": "1"}, session=_as("rick"))
    assert "approving replies needs the admin role" in refused.warning[0].value
    assert not refused.toggle(key=WIDGETS["awaiting_my_approval"]).value
    assert seeded.ids  # the store the page read


def test_each_filter_narrows_the_list_from_its_widget_and_its_link(
    make_store: Callable[[str], Seeded],
) -> None:
    _team(make_store)
    app = run_app(session=_as("dana"))
    assert order(app) == ["m3", "m2", "m5"]
    app.selectbox(key=WIDGETS["assignee"]).set_value("rick").run()
    assert order(app) == ["m3"] and param(app, "assignee") == ["rick"]
    app.selectbox(key=WIDGETS["assignee"]).set_value("unassigned").run()
    assert order(app) == ["m2", "m5"]
    app.selectbox(key=WIDGETS["assignee"]).set_value("").run()
    app.multiselect(key=WIDGETS["tags"]).set_value(["refund"]).run()
    assert order(app) == ["m3"] and param(app, "tag") == ["refund"]
    app.multiselect(key=WIDGETS["tags"]).set_value([]).run()
    app.multiselect(key=WIDGETS["case_statuses"]).set_value(["new"]).run()
    assert set(order(app)) == {"m3", "m5"} and param(app, "case") == ["new"]
    app.multiselect(key=WIDGETS["case_statuses"]).set_value([]).run()
    app.toggle(key=WIDGETS["overdue"]).set_value(True).run()
    assert order(app) == ["m5"]

    linked = run_app(query={"assignee": "nobody-here"}, session=_as("dana"))
    assert linked.warning[0].value.replace("\\", "") == (
        "Ignored assignee='nobody-here' in the link: not one of me, unassigned, assigned, dana, rick."
    )


def test_a_shared_view_is_open_to_the_rest_of_the_team(make_store: Callable[[str], Seeded]) -> None:
    seeded = _team(make_store)
    rick = run_app(session=_as("rick"))
    rick.selectbox(key=WIDGETS["assignee"]).set_value("me").run()
    rick.text_input(key="view_name").set_value("my refunds").run()
    rick.toggle(key="view_shared").set_value(True).run()
    rick.button(key="view-save").click().run()
    assert "Saved the view “my refunds” for the team" in rick.success[0].value
    save_view(seeded.engine, "rick", "private", {"q": "x"}, utcnow())

    dana = run_app(session=_as("dana"))
    team = [b for b in dana.button if (b.key or "").startswith("team-view-open-")]
    assert [b.label for b in team] == ["👥 my refunds · by rick"]  # not rick's private one
    team[0].click().run()
    # "me" in a shared view is whoever opens it.
    assert param(dana, "assignee") == ["me"] and order(dana) == []


def test_competitor_watches_stay_out_of_the_inbox_counter_and_digest_unless_asked(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store("")
    seeded.config.write_text(COMPETITORS, encoding="utf-8")
    import_mentions(seeded.engine, "globex", [mention(7, source="reddit", text="globex ate my order")])
    with seeded.engine.connect() as connection:
        seeded.ids["m7"] = connection.execute(
            select(mentions.c.id).where(mentions.c.external_id == "m7")
        ).scalar_one()
    score(seeded.engine, seeded.ids, {"m7": ("negative", 0.99)})

    app = run_app()
    assert "globex ate" not in markdown_text(app) and app.metric[0].value == "3"
    app.toggle(key=WIDGETS["competitors"]).set_value(True).run()
    assert "globex ate" in markdown_text(app) and param(app, "competitors") == ["1"]
    assert app.metric[0].value == "3"  # the care team's count stays the brand's

    config = load_config()
    later = utcnow() + timedelta(minutes=1)
    digest = preview(config, seeded.engine, config.digests[0], later)
    assert seeded.ids["m7"] not in digest.mention_ids and seeded.ids["m3"] in digest.mention_ids
    asked = replace(config.digests[0], include_competitors=True)
    assert seeded.ids["m7"] in preview(config, seeded.engine, asked, later).mention_ids


def test_a_replied_mention_leaves_the_unhandled_negatives(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    app = run_app()
    assert app.metric[0].value == "3"
    open_case(seeded.engine, seeded.ids["m3"], "dana", SETTINGS)
    with seeded.engine.begin() as connection:  # what posting a reply (or marking it replied by hand) writes
        apply_transition(connection, seeded.ids["m3"], "reply", "posted", "dana", utcnow())
    app.run()
    assert app.metric[0].value == "2" and order(app) == ["m2", "m5"]
    assert triage_states(seeded)["m3"] == "handled"


def test_an_undo_is_refused_once_someone_changed_the_mention(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    case = open_case(seeded.engine, seeded.ids["m3"], "dana", SETTINGS)
    app = run_app()
    assert headlines(app)[0].startswith(FOCUS)  # m3, the first
    app.button(key="key-handled").click().run()
    assert triage_states(seeded)["m3"] == "handled"
    # Meanwhile someone else reopens it and works on it.
    set_status(seeded.engine, case.id, "in_progress", "rick")
    app.button(key="inbox-undo").click().run()
    warning = app.warning[0].value.replace("\\", "")
    assert "Not undone for this mention: it was changed since the mark" in warning
    assert "(status → in_progress, by rick)" in warning
    after = find_case(seeded.engine, seeded.ids["m3"])
    assert after is not None and after.status == "in_progress"  # left as rick set it


def test_the_pointer_keeps_its_mention_when_a_refresh_brings_one_above_it(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store("")
    app = run_app()
    app.button(key="key-next").click().run()
    app.button(key="key-next").click().run()
    assert order(app) == ["m3", "m2", "m5"] and headlines(app)[2].startswith(FOCUS)

    # A fresh, very negative one arrives: the first in the list.
    new = mention(6, source="reddit", text="acme is a bit slow", author_reach=90_000, created_at=utcnow())
    import_mentions(seeded.engine, "acme", [new])
    with seeded.engine.connect() as connection:
        seeded.ids["m6"] = connection.execute(
            select(mentions.c.id).where(mentions.c.external_id == "m6")
        ).scalar_one()
    score(seeded.engine, seeded.ids, {"m6": ("negative", 0.99)})
    app.run()  # what the 20-second refresh does
    assert order(app) == ["m6", "m3", "m2", "m5"]
    assert [h.startswith(FOCUS) for h in headlines(app)] == [False, False, False, True]  # still m5
    app.button(key="key-handled").click().run()
    assert triage_states(seeded)["m5"] == "handled" and triage_states(seeded)["m2"] == "open"
    assert order(app) == ["m6", "m3", "m2"] and headlines(app)[2].startswith(FOCUS)
    assert not app.info  # its own mark took it out: no news
    # Someone else handles the mention under the pointer: it moves, and says so.
    mark(seeded.engine, [seeded.ids["m2"]], "handled", "rick")
    app.run()
    assert order(app) == ["m6", "m3"] and headlines(app)[1].startswith(FOCUS)
    assert "The mention the pointer was on left this list" in app.info[0].value
