"""monitor.surface.digest: a pure function from rows, settings and a moment to a digest."""

from __future__ import annotations

import datetime as dt
import re

from monitor.config import DigestList
from monitor.ranking import rank_key
from monitor.store.collect_state import CollectState
from monitor.surface.digest import Digest, DigestEntry, build_digest
from monitor.surface.render import UNSUBSCRIBE_LINK_MARK
from monitor.surface.shares import Counts
from tests.alerts.conftest import NOW

LIST = DigestList(name="support", recipients=("s@example.com",), timezone="Europe/Berlin")
HOSTILE = (
    '<script>alert("x")</script> <img src=x onerror=alert(1)> '
    '<a href="javascript:alert(2)">click</a> & "quotes"'
)


def entry(n: int, negative: float = 0.9, reach: int | None = None, **fields: object) -> DigestEntry:
    values: dict[str, object] = {
        "mention_id": n,
        "source": "reddit",
        "text": f"complaint {n}",
        "created_at": NOW - dt.timedelta(hours=1),
        "collected_at": NOW - dt.timedelta(minutes=50),
        "author": f"user{n}",
        "url": f"https://reddit.example/{n}",
        "author_reach": reach,
        "negative": negative,
        "neutral": (1 - negative) / 2,
        "positive": (1 - negative) / 2,
    }
    values.update(fields)
    # As scoring stores it: the digest ranks by the key, as the inbox does.
    values["rank_key"] = rank_key(negative, values["created_at"], reach)  # type: ignore[arg-type]
    return DigestEntry(**values)  # type: ignore[arg-type]


def build(entries: list[DigestEntry], digest_list: DigestList = LIST, **kwargs: object) -> Digest:
    options: dict[str, object] = {
        "counts": Counts(40, 10),
        "previous": Counts(20, 2),
        "failing": [],
        "period_start": NOW - dt.timedelta(days=1),
        "now": NOW,
        "public_url": "https://grumble.example",
    }
    options.update(kwargs)
    return build_digest(digest_list, entries, **options)  # type: ignore[arg-type]


def test_mentions_are_ranked_by_the_shared_priority_and_linked_twice() -> None:
    loud = entry(1, 0.8, reach=100_000)
    angry = entry(2, 0.99)
    old = entry(3, 0.99, created_at=NOW - dt.timedelta(hours=20))
    digest = build([old, angry, loud])
    assert digest.mention_ids == (1, 2, 3)
    text = digest.text
    assert text.index("complaint 1") < text.index("complaint 2") < text.index("complaint 3")
    assert "https://reddit.example/1" in text
    assert "https://grumble.example/mention?id=1" in text
    assert "user1 | 100k followers | 1 h ago" in text
    assert "negative 80%, neutral 10%, positive 10%" in text
    assert "Posted this period: 40 mentions (+20), 10 negative (25%, +15 points)" in text
    # The subject's count is the list's count, said in the same words.
    assert "3 NEW NEGATIVE MENTIONS SINCE THE LAST DIGEST, MOST URGENT FIRST" in text
    assert "3 new negative mentions since the last digest, most urgent first" in digest.html
    assert "Period before: 20 mentions, 2 negative (10%)" in text
    assert "Sun 01 Nov 2026 09:00 CET to Mon 02 Nov 2026 09:00 CET" in text  # the list's time zone
    assert digest.subject == "Grumble daily digest (support): 3 new negative mentions"
    html = digest.html
    assert html.index("complaint 1") < html.index("complaint 2") < html.index("complaint 3")
    assert 'href="https://grumble.example/mention?id=2"' in html
    assert 'href="https://grumble.example/digests"' in html


def test_hostile_text_is_escaped_in_html_and_javascript_urls_are_never_links() -> None:
    digest = build(
        [entry(1, text=HOSTILE, author="<b>evil</b>", title="<i>t</i>", url="javascript:alert(3)")]
    )
    html = digest.html
    assert "<script" not in html
    assert "<img" not in html
    assert "<b>evil" not in html and "<i>t" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&amp; &#34;quotes&#34;" in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    # The unsubscribe link is each recipient's own, put in at sending (test_digest_delivery).
    assert hrefs[-1] == UNSUBSCRIBE_LINK_MARK
    assert hrefs[:-1] and all(h.startswith("https://grumble.example") for h in hrefs[:-1])
    assert "javascript:" not in " ".join(hrefs)
    # The text part is plain text: shown as written, never interpreted.
    assert HOSTILE in digest.text
    assert "Original:" not in digest.text


def test_minimum_priority_is_judged_when_collected_not_at_the_digest() -> None:
    weekly = DigestList(name="weekly", recipients=("w@example.com",), every="weekly", min_priority=0.5)
    five_days_old = entry(
        1,
        0.9,
        created_at=NOW - dt.timedelta(days=5),
        collected_at=NOW - dt.timedelta(days=5) + dt.timedelta(minutes=5),
    )
    mild = entry(2, 0.4)
    digest = build([five_days_old, mild], weekly)
    assert digest.mention_ids == (1,)


def test_a_failing_source_is_named_at_the_top() -> None:
    failing = CollectState(
        watch="acme",
        source="mastodon",
        consecutive_failures=4,
        last_success_at=NOW - dt.timedelta(hours=3),
        last_error="mastodon: 503 <html>Service Unavailable</html>",
    )
    digest = build([entry(1)], failing=[failing])
    text = digest.text
    assert text.index("FAILING SOURCES") < text.index("complaint 1")
    assert "mastodon (watch acme): 4 failures in a row, last worked Mon 02 Nov 2026 06:00 CET" in text
    assert digest.subject.endswith("; failing: mastodon")
    html = digest.html
    assert html.index("Failing sources") < html.index("complaint 1")
    assert "&lt;html&gt;Service Unavailable" in html


def test_a_partly_failing_source_is_named_too() -> None:
    degraded = CollectState(
        watch="acme",
        source="rss",
        last_success_at=NOW - dt.timedelta(minutes=10),
        last_warning="feed https://x.example/a.xml failed (1 of 2 feeds): HTTP 404",
    )
    text = build([entry(1)], failing=[degraded]).text
    assert "rss (watch acme): partly failing on its last run (Mon 02 Nov 2026 08:50 CET)" in text
    assert "last error: feed https://x.example/a.xml failed (1 of 2 feeds): HTTP 404" in text


def test_past_max_mentions_the_rest_are_counted_and_still_claimed() -> None:
    capped = DigestList(name="support", recipients=("s@example.com",), max_mentions=3)
    entries = [entry(n, reach=100 * n) for n in range(1, 8)]  # more followers, more urgent
    digest = build(entries, capped)
    assert digest.mention_ids == (7, 6, 5, 4, 3, 2, 1)  # all claimed, most urgent first
    assert "7 new negative mentions" in digest.subject
    text = digest.text
    assert [n for n in range(1, 8) if f"complaint {n}\n" in text] == [5, 6, 7]
    assert "... and 4 more negative mentions of lower priority, in the inbox: https://grumble.example" in text
    assert "and 4 more negative mentions of lower priority" in digest.html
    assert "more negative mention" not in build(entries[:3], capped).text


def test_nothing_to_report_is_all_quiet() -> None:
    digest = build([], counts=Counts(0, 0), previous=Counts(3, 1))
    assert digest.quiet
    assert digest.subject == "Grumble daily digest (support): all quiet"
    assert "All quiet" in digest.text
    assert "All quiet" in digest.html
