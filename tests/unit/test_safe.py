import pytest

from dashboard.safe import escape_markdown, plain, safe_link
from monitor.surface import render


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a?b=1", "https://example.com/a?b=1"),
        ("http://x.org", "http://x.org"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        (" javascript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("https://", None),
        ("https://ok.com/\nevil", None),
        ("//evil.com", None),
        (None, None),
        ("http://[::1", None),  # unparseable: refused, not an error
        ("https://ok.com/a\x7fb", None),
        ("https://ok.com/a\u00a0b", None),
        ("https://ok.com/a\x01b", None),
        ("  https://ok.com/a  ", "https://ok.com/a"),
    ],
)
def test_only_http_links_survive(url: str | None, expected: str | None) -> None:
    assert safe_link(url) == expected


def test_the_dashboard_and_mail_share_one_link_rule() -> None:
    assert safe_link is render.safe_link


def test_markdown_is_inert_after_escaping() -> None:
    escaped = escape_markdown("[x](javascript:alert(1)) ![i](http://b/p.png) **b** :red[r] $x$ <b>")
    # Every character Markdown could act on is preceded by a backslash.
    import re

    assert not re.search(r"(?<!\\)[\[\]()!*:$<>]", escaped)
    assert escaped.replace("\\", "") == "[x](javascript:alert(1)) ![i](http://b/p.png) **b** :red[r] $x$ <b>"
    assert escape_markdown("a\nb") == "a  \nb"
    assert plain("abcdef", limit=4) == "abc…"
