"""A digest list with `include_comparison = true`: a share-of-voice section in both parts, escaped, and
only in the lists that ask for it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from monitor.config import DigestList
from monitor.store.compare import WatchVolume
from monitor.surface.compare import compare
from monitor.surface.digest import build_digest
from monitor.surface.digest_delivery import DigestDelivery
from monitor.surface.mail import Mailer
from monitor.surface.shares import Counts
from monitor.surface.trends import Term
from tests.alerts.conftest import NOW, Spec, StartServer, add_mentions, html_part, make_config, text_part

WATCHES = [{"name": "acme", "keywords": ["acme"], "competitors": ["rival"]}, {"name": "rival"}]


def test_a_list_with_the_comparison_mails_share_of_voice_and_one_without_does_not(
    engine: Engine, smtp_server: StartServer
) -> None:
    server = smtp_server()
    recipients = ["s@example.com"]
    config = make_config(
        smtp=server.smtp_table(),
        watches=WATCHES,
        digests=[
            {"name": "compared", "recipients": recipients, "include_comparison": True},
            {"name": "plain", "recipients": recipients},
        ],
    )
    day = dt.timedelta(days=1)
    add_mentions(engine, [Spec(1, text="acme billing broke"), Spec(2, label="neutral", negative=0.1)])
    add_mentions(engine, [Spec(3, created_at=NOW - day - dt.timedelta(hours=1))])  # the day before
    add_mentions(
        engine, [Spec(4, text="rival shipping late"), Spec(5, text="rival shipping lost")], watch="rival"
    )
    sender = DigestDelivery(
        config, engine, Mailer(server.settings(), sleep=lambda _s: None), clock=lambda: NOW
    )
    for digest_list in config.digests:
        assert [o.status for o in sender.run_digest(digest_list, NOW)] == ["sent"]
    compared, plain = server.messages
    text = text_part(compared).replace("\r\n", "\n")
    # The day: acme 2 of the group's 4 mentions (1 negative), rival 2 (both negative); the day before,
    # acme's one negative mention was all the group heard.
    assert "SHARE OF VOICE: acme AND ITS COMPETITORS" in text
    assert "- acme (brand): 2 mentions (+1), share of voice 50% (-50 pts), negative 50% (-50 pts)\n" in text
    assert "- rival: 2 mentions (+2), share of voice 50% (+50 pts), negative 100% (-)\n" in text
    # Terms used by one mention each tie, and ties come in any order.
    terms = [set(line.split(": ")[1].split(", ")) for line in text.splitlines() if "complaint terms" in line]
    assert terms == [{"billing", "broke"}, {"shipping", "late", "lost"}]
    html = html_part(compared)
    assert "Share of voice: acme and its competitors" in html
    assert "<strong>acme</strong>" in html and "50% (+50 pts)" in html
    assert "SHARE OF VOICE" not in text_part(plain) and "Share of voice" not in html_part(plain)


def test_the_section_is_escaped_in_html() -> None:
    comparison = compare(
        "<b>acme</b>",
        ("<b>acme</b>", "rival"),
        NOW - dt.timedelta(days=1),
        NOW,
        [WatchVolume("<b>acme</b>", 3, 1), WatchVolume("rival", 1, 1)],
        [],
        {"rival": [Term("<script>alert(1)</script>", 1, 0)]},
    )
    digest = build_digest(
        DigestList(name="d", recipients=("d@example.com",), include_comparison=True),
        [],
        counts=Counts(4, 2),
        previous=Counts(0, 0),
        failing=[],
        period_start=NOW - dt.timedelta(days=1),
        now=NOW,
        public_url="https://grumble.example",
        comparisons=[comparison],
    )
    assert digest.quiet  # a comparison alone is nothing new to send
    assert "<script" not in digest.html and "<b>acme" not in digest.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in digest.html
    assert "<strong>&lt;b&gt;acme&lt;/b&gt;</strong>" in digest.html
    assert "- <b>acme</b> (brand): 3 mentions (+3), share of voice 75% (-)" in digest.text
