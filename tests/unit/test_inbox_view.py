"""The inbox's view to and from a link's query: what a reload, a shared link and a saved view reopen."""

from datetime import UTC, datetime, timedelta

from monitor.surface.inbox_view import InboxView, from_params

WATCHES, SOURCES = ["acme", "globex"], ["reddit", "appstore"]


def test_the_default_inbox_has_an_empty_query() -> None:
    assert InboxView().to_params() == {}
    assert from_params({}, WATCHES, SOURCES) == (InboxView(), [])


def test_every_field_goes_through_a_link_and_back() -> None:
    view = InboxView(
        search="refund & co",
        watches=("globex",),
        sources=("reddit", "appstore"),
        labels=(),
        show="all",
        period="7d",
        min_priority=1.5,
        sort="most negative",
        layout="compact",
    )
    params = view.to_params()
    assert params == {
        "q": "refund & co",
        "watch": ["globex"],
        "source": ["reddit", "appstore"],
        "label": "all",  # every label: not the same as no label given
        "show": "all",
        "period": "7d",
        "min": "1.5",
        "sort": "most negative",
        "view": "compact",
    }
    as_query = {name: value if isinstance(value, list) else [value] for name, value in params.items()}
    assert from_params(as_query, WATCHES, SOURCES) == (view, [])


def test_values_that_cannot_be_used_are_named_and_replaced_by_the_default() -> None:
    view, problems = from_params(
        {
            "sort": ["loudest"],
            "min": ["lots"],
            "period": ["1y"],
            "source": ["reddit", "myspace"],
            "label": ["angry"],
            "watch": ["initech"],
        },
        WATCHES,
        SOURCES,
    )
    assert view == InboxView(sources=("reddit",))
    assert problems == [
        "Ignored period='1y' in the link: choose one of any, 1h, 24h, 7d, 30d.",
        "Ignored min='lots' in the link: give a number such as 1.5.",
        "Ignored sort='loudest' in the link: choose one of priority, newest, reach, most negative.",
        "Ignored watch='initech' in the link: not one of acme, globex.",
        "Ignored source='myspace' in the link: not one of reddit, appstore.",
        "Ignored label='angry' in the link: not one of negative, neutral, positive.",
    ]
    assert from_params({"min": ["nan"]}, WATCHES, SOURCES)[1] == [
        "Ignored min='nan' in the link: give a number of 0 or more."
    ]


def test_a_view_becomes_the_filter_of_its_moment() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    where = InboxView(show="handled", period="24h", search="  ", min_priority=0.0).to_filter(now)
    assert where.triage == ("handled",) and where.since == now - timedelta(hours=24)
    assert where.search is None and where.min_priority is None and where.labels == ("negative",)
