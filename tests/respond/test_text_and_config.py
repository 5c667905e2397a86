"""Templates, lengths as each source counts them, idempotency keys, and the [responder] config."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ResponderRule, load_config, parse_config
from monitor.errors import ConfigError, TemplateError
from monitor.respond.replies import render_template
from monitor.sources.reply_text import graphemes, is_tid, new_idempotency_key, placeholders, render
from tests.respond.conftest import Store
from tests.respond.fakes import FakeMastodon
from tests.support.http_replay import ReplayServer

VALUES = {"author": "dana", "brand": "Acme", "product": "Acme Notes", "link": "https://x.example/1"}


def test_render_fills_every_placeholder_and_keeps_literal_braces() -> None:
    text = "Hi {author}, {brand} here about {product} ({link}) {{not a field}}"
    assert render(text, VALUES) == "Hi dana, Acme here about Acme Notes (https://x.example/1) {not a field}"
    assert placeholders(text) == ["author", "brand", "product", "link"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hi {name}", "unknown placeholder {name}; use {author}, {brand}, {product}, {link}, {case_link}"),
        ("Hi {}", "unknown placeholder {}"),
        ("Hi {author.upper}", "unknown placeholder {author.upper}"),
        ("Hi {author!r}", "takes no format or conversion"),
        ("Hi {author", "literal braces"),
    ],
)
def test_bad_templates_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match="'apology'") as caught:
        render(text, VALUES, "apology")
    assert message in str(caught.value)


def test_a_placeholder_without_a_value_says_where_to_set_it() -> None:
    with pytest.raises(TemplateError, match=r"\{product\}: set product in the watch or in \[responder\]"):
        render("{product}", {**VALUES, "product": None}, "t")


def test_graphemes_count_what_a_reader_sees() -> None:
    assert graphemes("👩‍👩‍👧") == 1
    assert graphemes("🇩🇪") == 1
    assert graphemes("e\u0301") == 1
    assert graphemes("abc") == 3


def test_mastodon_counts_links_as_23_and_remote_mentions_without_their_domain(
    replay_server: ReplayServer,
) -> None:
    fake = FakeMastodon(replay_server, max_characters=480)
    source = fake.source()
    long_link = "https://example.com/" + "a" * 100
    length = source.measure(f"@dana@social.example see {long_link} 👩‍👩‍👧")
    assert length.count == len("@dana see ") + 23 + 2 and length.limit == 480
    source.measure("again")
    assert len(replay_server.requests_to("/api/v2/instance")) == 1  # asked once


def test_idempotency_keys_are_unique_tids() -> None:
    keys = {new_idempotency_key() for _ in range(1000)}
    assert len(keys) == 1000 and all(is_tid(key) and len(key) == 13 for key in keys)
    assert new_idempotency_key(now_us=0).startswith("2222222222")


def test_templates_are_filled_from_the_mention_its_watch_and_responder(store: Store, tmp_path: Path) -> None:
    config = parse_config(
        {
            "watches": [{"name": "acme", "keywords": ["acme"], "product": "Acme Notes"}],
            "responder": {"brand": "Acme Inc"},
            "reply_templates": [
                {"name": "apology", "text": "Hi {author}, {brand} is sorry about {product}: {link}"}
            ],
        },
        None,
        {},
    )
    text = render_template(store.engine, config, store.ids["mastodon"], "apology")
    assert text == (
        "Hi dana_k@social.example, Acme Inc is sorry about Acme Notes: "
        "https://social.example/@dana_k/117541070438400000"
    )


RESPONDER_TOML = """
[[watches]]
name = "acme"
keywords = ["acme"]
brand = "Acme"
[watches.sources.demo]

[[users]]
name = "dana"
role = "responder"
password_hash = "scrypt$16384$8$1$c2FsdA==$aGFzaA=="

[responder]
response_target_minutes = 30
resolution_target_minutes = 480
approval_roles = ["responder"]
approval_min_priority = 2.5
product = "Acme Notes"

[[responder.rules]]
source = "reddit"
assignee = "dana"

[[responder.rules]]
watch = "acme"
label = "any"
assignee = "dana"

[[reply_templates]]
name = "apology"
text = "Hi {author}, sorry! {link}"
"""


def test_responder_config_is_read(tmp_path: Path) -> None:
    path = tmp_path / "grumble.toml"
    path.write_text(RESPONDER_TOML, encoding="utf-8")
    config = load_config(path, environ={})
    responder = config.responder
    assert responder.response_target_minutes == 30 and responder.resolution_target_minutes == 480
    assert responder.approval_roles == ("responder",) and responder.approval_min_priority == 2.5
    assert responder.approver_role == "admin" and responder.product == "Acme Notes"
    assert responder.rules == (
        ResponderRule(assignee="dana", source="reddit"),
        ResponderRule(assignee="dana", watch="acme", label=None),
    )
    assert config.watches[0].brand == "Acme"
    assert [t.name for t in config.reply_templates] == ["apology"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('text = "Hi {author}, sorry! {link}"', 'text = "Hi {customer}"'),
            "reply_templates[0].text: reply template",
        ),
        (
            ('approval_roles = ["responder"]', 'approval_roles = ["boss"]'),
            "responder.approval_roles: expected roles",
        ),
        (('source = "reddit"', 'source = "myspace"'), "responder.rules[0].source: unknown source 'myspace'"),
        (
            ('assignee = "dana"\n\n[[reply', 'assignee = "kim"\n\n[[reply'),
            "responder.rules[1].assignee: expected one",
        ),
        (
            ('watch = "acme"', 'watch = "other"'),
            "responder.rules[1].watch: expected the name of a configured watch",
        ),
        (
            ("response_target_minutes = 30", "response_target_minutes = 0"),
            "response_target_minutes: expected a number",
        ),
        (("product = ", "colour = "), "unknown key 'responder.colour'"),
    ],
)
def test_bad_responder_config_names_file_key_expected_and_found(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "grumble.toml"
    path.write_text(RESPONDER_TOML.replace(*change), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert str(path) in str(caught.value) and message in str(caught.value)
