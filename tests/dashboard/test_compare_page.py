"""The Compare page through AppTest: its empty state, the side-by-side table, the chart and the terms."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from streamlit.testing.v1 import AppTest

from monitor.mention import utcnow
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from tests.dashboard.conftest import Seeded, run_app, score
from tests.factories import mention

# The seeded store's one watch is acme; globex is configured as the brand with acme as its competitor.
GLOBEX = '[[watches]]\nname = "globex"\nkeywords = ["globex"]\ncompetitors = ["acme"]\n'


def vega_charts(app: AppTest) -> list[Any]:
    return [e for e in app.main if type(e).__name__ == "UnknownElement" and "vega" in e.type]


def test_without_competitors_the_page_says_how_to_configure_them(make_store: Callable[[str], Seeded]) -> None:
    make_store("")
    app = run_app("views/compare.py")
    message = app.info[0].value
    assert "No competitors are configured" in message and 'competitors = ["globex"]' in message
    assert not app.dataframe


def test_brand_and_competitor_side_by_side_against_the_period_before(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store(GLOBEX)
    now = utcnow()
    import_mentions(
        seeded.engine,
        "globex",
        [
            mention(10, text="globex billing broke my account", created_at=now - timedelta(hours=1)),
            mention(11, text="globex billing again", created_at=now - timedelta(days=10)),
        ],
    )
    ids = {row["external_id"]: row["id"] for row in iter_all(seeded.engine, MentionFilter())}
    score(seeded.engine, ids, {"m10": ("negative", 0.9), "m11": ("neutral", 0.2)})

    app = run_app("views/compare.py")
    assert app.selectbox(key="c_brand").value == "globex"
    table = app.dataframe[0].value.set_index("watch")
    assert list(table.index) == ["globex (brand)", "acme"]
    # Last 30 days: globex 2 of the group's 7 mentions, acme 5 (3 negative); nothing the 30 days before,
    # so shares have no change to show.
    assert table.loc["globex (brand)", "mentions"] == "2 (+2)" and table.loc["acme", "mentions"] == "5 (+5)"
    assert table.loc["globex (brand)", "share of voice"] == "29%"
    assert table.loc["acme", "share of voice"] == "71%"
    assert table.loc["acme", "share of voice before"] == "-"
    assert table.loc["acme", "negative"] == 3 and table.loc["acme", "negative share"] == "60%"
    assert len(vega_charts(app)) == 1
    assert [s.value for s in app.subheader] == ["Share of voice", "Complaint terms", "Complaint topics"]
    terms = app.dataframe[1].value
    globex_terms = set(terms[terms["watch"] == "globex"]["term"])
    assert {"billing", "broke", "account"} <= globex_terms and "globex" not in globex_terms

    # Last 7 days: globex 1 of 6 now, and all of the week before (its older mention).
    app.radio(key="c_days").set_value(7).run()
    assert not app.exception, [e.value for e in app.exception]
    table = app.dataframe[0].value.set_index("watch")
    assert table.loc["globex (brand)", "mentions"] == "1 (+0)"
    assert table.loc["globex (brand)", "mentions before"] == 1
    assert table.loc["globex (brand)", "share of voice"] == "17% (-83 pts)"
    assert table.loc["globex (brand)", "share of voice before"] == "100%"
    assert table.loc["globex (brand)", "negative share"] == "100% (+100 pts)"
    assert table.loc["acme", "share of voice"] == "83% (+83 pts)"
