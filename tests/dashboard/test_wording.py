"""What the screens say: no internal terms ("local" as a name, raw scores, bare priority numbers), one
name per thing (handled, not relevant), and errors inside a sentence that says what to do."""

from __future__ import annotations

import re
from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from monitor.mention import utcnow
from monitor.store.cases import find_case
from monitor.store.collect_state import record_failure
from tests.dashboard.conftest import Seeded, markdown_text, run_app

RAW_SCORE = re.compile(r"\b(neg|neu|pos) \d\.\d\d|priority \d")


def _ok(app: AppTest) -> AppTest:
    assert not app.exception, [e.value for e in app.exception]
    return app


def _shown(app: AppTest) -> str:
    """Every text on screen (headings, Markdown, captions, messages), unescaped."""
    parts = [e.value for e in (*app.title, *app.subheader, *app.markdown, *app.caption)]
    parts += [e.value for e in (*app.success, *app.info, *app.warning, *app.error)]
    parts += [e.value for e in app.sidebar.caption]
    return "\n".join(parts).replace("\\", "")


def test_the_inbox_says_who_you_are_and_reads_scores_and_priority_in_words(
    make_store: Callable[[str], Seeded],
) -> None:
    make_store("")
    app = run_app()  # no [[users]]: the one person using this Grumble
    shown = _shown(app)
    assert "You are the only user (no sign-in)" in shown
    assert "local" not in shown and "Signed in as" not in shown
    captions = [c for c in app.caption if c.value.startswith("Priority")]
    assert captions and all(c.value.startswith("Priority: ") for c in captions)
    assert "the text reads strongly negative" in shown  # m3: P(negative) 0.95
    assert "the text reads negative" in shown  # m2: 0.7
    assert not RAW_SCORE.search(shown), RAW_SCORE.search(shown)
    # The numbers stay, in the caption's tooltip.
    assert "Model's reading of the text: negative 0.95 · neutral 0.05 · positive 0.00" in str(
        captions[0].proto.help
    )

    # Assigned to "local" reads "you" on the card.
    app = _ok(app.button(key="key-assign").click().run())
    assert any("→ you" in m.value for m in app.markdown if "badge[" in m.value)
    assert "local" not in _shown(app)

    # One name per thing: the inbox's Show menu says "not relevant", never "dismissed".
    options = list(app.selectbox(key="f_triage").options)
    assert "not relevant" in options and "dismissed" not in options


def test_a_case_says_handled_and_not_relevant_names_you_and_wraps_errors(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store("")
    mention_id = seeded.ids["m2"]
    app = run_app("views/mention.py", query={"id": str(mention_id)})
    app = _ok(app.button(key=f"open-case-{mention_id}").click().run())
    case = find_case(seeded.engine, mention_id)
    assert case is not None
    status = app.selectbox(key=f"case-{case.id}-status-new")
    assert "✅ handled" in status.options and "🚫 not relevant" in status.options
    assert not [o for o in status.options if "resolved" in o or "dismissed" in o]

    # An empty note is refused in a sentence that says what to do.
    app = _ok(app.button(key=f"case-{case.id}-note-add").click().run())
    errors = " ".join(e.value for e in app.error).replace("\\", "")
    assert re.search(r"Note not added: .+\. Correct it, then add it again\.", errors), errors

    app = _ok(app.selectbox(key=f"case-{case.id}-status-new").select("resolved").run())
    shown = _shown(app)
    assert "✅ handled" in shown and "You marked the case handled" in shown and "You opened a case." in shown
    assert "Handled: " in shown  # the clock to handling, not "Resolution"
    assert "local" not in shown and "resolved" not in markdown_text(app)


def test_the_case_and_author_pages_say_you_and_handled_and_refusals_say_what_to_do(
    make_store: Callable[[str], Seeded],
) -> None:
    seeded = make_store("")
    mention_id = seeded.ids["m2"]
    app = run_app("views/mention.py", query={"id": str(mention_id)})
    app = _ok(app.button(key=f"open-case-{mention_id}").click().run())
    case = find_case(seeded.engine, mention_id)
    assert case is not None
    key = f"case-{case.id}"

    # "me" typed as the assignee is the one person using this Grumble; the field then says "you".
    app.text_input(key=f"{key}-assignee").input("me")
    app = _ok(app.button(key=f"{key}-assign").click().run())
    assigned = find_case(seeded.engine, mention_id)
    assert assigned is not None and assigned.assignee == "local"  # what the records keep
    assert "assignee **you**" in markdown_text(app)
    fresh = run_app("views/mention.py", query={"id": str(mention_id)})
    assert fresh.text_input(key=f"{key}-assignee").value == "you"

    # A reply the rules refuse: the rule's words inside a sentence that says what to do.
    app = _ok(app.button(key=f"{key}-reply-submit").click().run())
    errors = " ".join(e.value for e in app.error).replace("\\", "")
    assert "Not done: a reply needs some text. Change the reply, or reload the page" in errors, errors

    app.text_area(key=f"{key}-reply-text").input("We are on it.")
    app = _ok(app.button(key=f"{key}-reply-save").click().run())
    (status,) = [s for s in app.selectbox if (s.key or "").startswith(f"{key}-status-")]
    app = _ok(status.select("resolved").run())

    # The author's page: the case handled, assigned to you, the reply by you.
    app = run_app("views/author.py", query={"author": "author2"})
    shown = _shown(app)
    assert "**handled** · reddit · assignee you" in shown, shown
    assert "reply draft by you" in shown
    assert "local" not in shown and "resolved" not in shown


def test_me_typed_for_a_selection_assigns_it_to_you(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    app = run_app()
    app.checkbox(key=f"pick-{seeded.ids['m2']}").check()
    app = _ok(app.run())
    app.text_input(key="bulk-assignee").input(" Me ")
    app = _ok(app.button(key="bulk-assign").click().run())
    case = find_case(seeded.engine, seeded.ids["m2"])
    assert case is not None and case.assignee == "local"
    assert "1 mention assigned to you." in _shown(app)
    assert "local" not in _shown(app)


def test_a_source_s_own_error_comes_with_what_to_do(make_store: Callable[[str], Seeded]) -> None:
    seeded = make_store("")
    error = "HTTPSConnectionPool(host='x.example', port=443): Max retries exceeded"
    record_failure(seeded.engine, "acme", "rss", error, utcnow())
    app = run_app("views/sources.py")
    (shown,) = [e.value for e in app.error]
    assert shown.startswith("1 collection job(s) failing: rss (acme). The problem column below says")
    assert "fix what it names (a key, a login, a URL) in grumble.toml or the environment" in shown
    assert error in " ".join(app.dataframe[0].value["problem"])  # the library's words, in their column
