"""Bidi overrides in a stranger's name must not flip the rest of our line, in the dashboard or in email."""

from __future__ import annotations

from dashboard.safe import plain
from monitor.surface.render import environment, isolate_bidi

OVERRIDE = "Dana\u202e gnp.exe"  # U+202E RIGHT-TO-LEFT OVERRIDE


def test_controls_are_removed_and_the_run_isolated() -> None:
    assert isolate_bidi(OVERRIDE) == "\u2068Dana gnp.exe\u2069"
    assert isolate_bidi("\u2067x\u2069 \u200f") == "\u2068x \u2069"
    assert isolate_bidi("שלום") == "\u2068שלום\u2069"  # right-to-left letters: isolated, kept
    assert isolate_bidi("plain ascii, café") == "plain ascii, café"


def test_dashboard_text_is_isolated() -> None:
    shown = plain(OVERRIDE)
    assert "\u202e" not in shown and shown.startswith("\u2068") and shown.endswith("\u2069")


def test_every_value_an_email_prints_is_isolated() -> None:
    html = (
        environment()
        .from_string("<p>{{ name }} said {{ text | nl2br }} · end</p>")
        .render(name=OVERRIDE, text="line one\n\u202eline two")
    )
    assert "\u202e" not in html
    assert "\u2068Dana gnp.exe\u2069 said \u2068line one<br>\nline two\u2069 · end" in html
