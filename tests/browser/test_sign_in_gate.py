"""The sign-in gate of a real `grumble dashboard` server: what reaches the app without a session, where a
link lands after signing in, what signing out ends, and unsubscribe links that need no sign-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from monitor.auth.signing import unsubscribe_token
from monitor.auth.users import hash_password
from monitor.config import load_config
from monitor.store.digests import opted_out
from monitor.store.engine import connect
from monitor.store.filters import MentionFilter
from monitor.store.mentions import import_mentions, iter_all
from tests.browser.conftest import ARTIFACTS, dashboard_config, running_dashboard
from tests.dashboard.conftest import score
from tests.factories import mention

USERS = f"""
[[users]]
name = "vera"
role = "viewer"
password_hash = "{hash_password("view-pass-1")}"

[[digests]]
name = "support"
recipients = ["support@example.com", "Lead@example.com"]
"""


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One server for the module: each test signs in, out or unsubscribes on its own terms."""
    config = dashboard_config(tmp_path_factory.mktemp("gated"))
    config.write_text(config.read_text(encoding="utf-8") + USERS, encoding="utf-8")
    with running_dashboard(config) as url:
        yield url, config


def test_without_a_session_pages_go_to_sign_in_and_downloads_and_the_app_are_refused(gated: Any) -> None:
    url, _config = gated
    with httpx.Client(base_url=url) as client:
        page = client.get("/mention?id=7")
        assert page.status_code == 303
        assert page.headers["location"] == f"/grumble/login?next={quote('/mention?id=7', safe='')}"
        assert client.get("/media/0123456789abcdef.csv").status_code == 401
        assert client.get("/_stcore/health").status_code == 200
        host = url.removeprefix("http://")
        with pytest.raises(InvalidStatus), ws_connect(f"ws://{host}/_stcore/stream"):
            pass
        # The form keeps only targets on this server.
        assert 'name=next value="/"' in client.get("/grumble/login?next=https://evil.example/").text


def test_signing_in_lands_on_the_link_and_signing_out_ends_the_session(gated: Any) -> None:
    url, _config = gated
    with httpx.Client(base_url=url) as client:
        wrong = client.post("/grumble/login", data={"name": "vera", "password": "nope", "next": "/"})
        assert (
            wrong.status_code == 401
            and "wrong password" in wrong.text
            and "grumble_session" not in wrong.cookies
        )
        right = client.post(
            "/grumble/login", data={"name": "vera", "password": "view-pass-1", "next": "/mention?id=7"}
        )
        assert right.status_code == 303 and right.headers["location"] == "/mention?id=7"
        assert "HttpOnly" in right.headers["set-cookie"] and "SameSite=lax" in right.headers["set-cookie"]
        cookie = client.cookies["grumble_session"]
        assert client.get("/mention?id=7").status_code == 200
        # Already signed in: the sign-in page sends the user on.
        assert client.get("/grumble/login?next=/trends").headers["location"] == "/trends"
        assert client.get("/grumble/logout").status_code == 303
    with httpx.Client(base_url=url, cookies={"grumble_session": cookie}) as stolen:
        assert stolen.get("/mention?id=7").status_code == 303


def test_an_unsubscribe_link_works_without_signing_in_for_its_recipient_only(gated: Any) -> None:
    url, config = gated
    engine = connect(load_config(config).database_url)
    token = unsubscribe_token(engine, "support", "lead@example.com")
    with httpx.Client(base_url=url) as client:
        confirm = client.get(f"/grumble/unsubscribe?token={token}")
        assert confirm.status_code == 200 and "lead@example.com" in confirm.text
        assert opted_out(engine, "support") == set()
        done = client.post(f"/grumble/unsubscribe?token={token}")
        assert done.status_code == 200 and "no longer receives" in done.text
        assert opted_out(engine, "support") == {"lead@example.com"}
        assert client.post(f"/grumble/resubscribe?token={token}").status_code == 200
        assert opted_out(engine, "support") == set()
        # RFC 8058: a mail client's one-click POST.
        one_click = client.post(
            f"/grumble/unsubscribe?token={token}",
            content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert one_click.status_code == 200 and opted_out(engine, "support") == {"lead@example.com"}
        # An edited token (say, to unsubscribe someone else) does nothing.
        forged = unsubscribe_token(engine, "support", "support@example.com")[:-3] + "abc"
        assert client.post(f"/grumble/unsubscribe?token={forged}").status_code == 400
        stranger = unsubscribe_token(engine, "support", "stranger@example.com")
        assert client.post(f"/grumble/unsubscribe?token={stranger}").status_code == 404
        assert opted_out(engine, "support") == {"lead@example.com"}
    engine.dispose()


@pytest.mark.slow
def test_a_viewer_follows_an_email_link_through_sign_in_and_a_download_needs_the_session(
    gated: Any, browser_page: Any
) -> None:
    url, config = gated
    engine = connect(load_config(config).database_url)
    import_mentions(engine, "acme", [mention(1, source="reddit", text="acme lost my parcel, again")])
    [row] = list(iter_all(engine, MentionFilter()))
    score(engine, {"m1": row["id"]}, {"m1": ("negative", 0.9)})
    page = browser_page

    # "Open in Grumble" from a digest: the sign-in page, then that mention, as a viewer.
    page.goto(f"{url}/mention?id={row['id']}")
    page.get_by_label("User name").fill("vera")
    page.get_by_label("Password").fill("view-pass-1")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Mention").wait_for(timeout=30_000)
    page.get_by_text("acme lost my parcel", exact=False).first.wait_for(timeout=15_000)
    assert page.url == f"{url}/mention?id={row['id']}"
    # A reload keeps the session.
    page.reload()
    page.get_by_text("acme lost my parcel", exact=False).first.wait_for(timeout=30_000)
    assert "/grumble/login" not in page.url

    # An export is served to the session that made it, and to nobody without one.
    page.goto(url)
    page.get_by_role("button", name="Prepare CSV of this view").click()
    with page.expect_download(timeout=30_000) as download_info:
        page.get_by_role("button", name="Download CSV").click()
    download = download_info.value
    media_url = download.url
    assert "/media/" in media_url
    assert "acme lost my parcel" in Path(download.path()).read_text(encoding="utf-8")
    page.screenshot(path=str(ARTIFACTS / "signed-in-export.png"))
    assert httpx.get(media_url).status_code == 401
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert httpx.get(media_url, cookies={"grumble_session": cookies["grumble_session"]}).status_code == 200
    engine.dispose()


def test_another_sites_form_cannot_sign_a_browser_in_and_its_link_cannot_sign_it_out(gated: Any) -> None:
    url, _config = gated
    right = {"name": "vera", "password": "view-pass-1", "next": "/"}
    with httpx.Client(base_url=url) as client:
        # Login CSRF: the attacker's page posts its own account's password into the victim's browser.
        for headers in (
            {"Sec-Fetch-Site": "cross-site"},
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
        ):
            refused = client.post("/grumble/login", data=right, headers=headers)
            assert refused.status_code == 403 and "sent from another site" in refused.text
            assert "grumble_session" not in refused.cookies
        signed_in = client.post(
            "/grumble/login", data=right, headers={"Sec-Fetch-Site": "same-origin", "Origin": url}
        )
        assert signed_in.status_code == 303
        # A cross-site link (or <img>) to the sign-out address asks instead of signing out...
        asked = client.get("/grumble/logout", headers={"Sec-Fetch-Site": "cross-site"})
        assert asked.status_code == 200 and '<form method=post action="/grumble/logout">' in asked.text
        assert client.post("/grumble/logout", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
        assert client.get("/mention?id=7").status_code == 200
        # ...and the confirmation, from our own page, signs out.
        assert client.post("/grumble/logout", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 303
        assert client.get("/mention?id=7").status_code == 303
