"""What `grumble dashboard` serves: the Streamlit app behind a sign-in gate, plus the pages outside it.

Streamlit keeps no login across reloads and serves downloads (`/media/...`) to anyone holding the URL.
So the app runs as an `st.App` (Starlette) with a gate in front of it: when users are configured, every
request but the sign-in and unsubscribe pages and static assets needs a session cookie (`sessions.py`).
A page request without one is sent to /grumble/login with the page it asked for (an "Open in Grumble"
link from a digest lands where it points after signing in); a download or a websocket without one is
refused. With no users configured (local use), the gate lets everything through, as before.

Users signing in through OpenID Connect (`st.login`) hold Streamlit's own signed cookie instead; the
gate accepts it for downloads, and lets page loads through so the app can offer `st.login`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from functools import cache
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import streamlit as st
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from dashboard import pages_html
from dashboard.notice_links import notice_routes
from dashboard.preload import preload
from monitor.api.app import PREFIX as API_PREFIX
from monitor.api.app import LazyApi
from monitor.auth.login import Login, LoginThrottled
from monitor.auth.sessions import COOKIE, LIFETIME, end_session, session_user, start_session
from monitor.auth.signing import read_unsubscribe_token
from monitor.config import Config, load_config
from monitor.helpdesk.receiver import HOOKS_PREFIX, hook_endpoint
from monitor.mention import utcnow
from monitor.store.digests import set_subscribed
from monitor.store.engine import connect

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

# Reachable without a session: the gate's own pages, Streamlit's health check and static assets (the
# same for every install), Streamlit's OpenID Connect routes, and the REST API (bearer tokens instead).
OPEN_PATHS = (
    "/grumble/",
    "/_stcore/health",
    "/_stcore/host-config",
    "/static/",
    "/favicon",
    "/auth/",
    API_PREFIX + "/",
    HOOKS_PREFIX,  # the helpdesks' webhooks, each verified by its own signature (monitor/helpdesk/)
)
OPEN_EXACT = ("/oauth2callback", "/manifest.json")
# Not pages: refused outright rather than sent to the sign-in page.
NOT_PAGES = ("/media/", "/_stcore/", "/component/", "/app/static/")


@cache
def _config() -> Config:
    return load_config()


@cache
def _engine() -> Engine:
    return connect(_config().database_url)


def safe_next(target: str | None) -> str:
    """A path on this server to go to after signing in; anything else (another site) becomes "/"."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _cookies(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is the client's problem: no cookies
                return {}
    return {key: morsel.value for key, morsel in jar.items()}


def _oidc_signed_in(cookies: dict[str, str]) -> bool:
    """Streamlit's signed user cookie, checked with Streamlit's own key and helpers."""
    from streamlit.auth_util import get_cookie_with_chunks
    from streamlit.web.server.server_util import AUTH_COOKIE_NAME, get_cookie_secret
    from streamlit.web.server.starlette.starlette_app_utils import decode_signed_value

    def single(name: str) -> bytes | None:
        value = cookies.get(name)
        return value.encode() if value is not None else None

    raw = get_cookie_with_chunks(single, AUTH_COOKIE_NAME)
    return raw is not None and decode_signed_value(get_cookie_secret(), AUTH_COOKIE_NAME, raw) is not None


class SignInGate:
    """ASGI middleware: a session for everything but the open paths, when users are configured."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The session lookup is a database read: off the event loop, which serves every open tab.
        if scope["type"] not in ("http", "websocket") or await run_in_threadpool(self._admitted, scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        path = scope.get("path", "/")
        if path.startswith(NOT_PAGES) or scope.get("method") not in ("GET", "HEAD"):
            response: Response = Response("Sign in to Grumble first.", status_code=401)
        else:
            query = scope.get("query_string", b"").decode("latin-1")
            target = path + (f"?{query}" if query else "")
            response = RedirectResponse(f"/grumble/login?next={quote(target, safe='')}", status_code=303)
        await response(scope, receive, send)

    def _admitted(self, scope: Scope) -> bool:
        config = _config()
        if not config.users:
            return True
        path = scope.get("path", "/")
        if path.startswith(OPEN_PATHS) or path in OPEN_EXACT:
            return True
        cookies = _cookies(scope)
        if session_user(_engine(), cookies.get(COOKIE), config.users) is not None:
            return True
        if config.oidc:
            # The app itself checks st.user on every run; downloads need the signed cookie.
            return not path.startswith("/media/") or _oidc_signed_in(cookies)
        return False


def login_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if session_user(_engine(), request.cookies.get(COOKIE), _config().users) is not None:
        return RedirectResponse(next_path, status_code=303)
    return HTMLResponse(pages_html.login_page(next_path, oidc=_config().oidc))


def same_origin(request: Request) -> bool:
    """Whether a request comes from this site's own pages (or is typed in or scripted), not from
    another site's form, link or image: Sec-Fetch-Site where the browser sends it, else Origin, which
    browsers send with every cross-site POST. A client sending neither (curl, a test) is no browser
    another site could drive."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc == request.headers.get("host", "")


async def login(request: Request) -> Response:
    form = await request.form()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "/")))
    if not same_origin(request):
        # Login CSRF: another site's form would sign this browser in as the attacker's account.
        page = pages_html.login_page(
            next_path, "Not signed in: the form was sent from another site. Sign in here.", "", _config().oidc
        )
        return HTMLResponse(page, status_code=403)
    address = request.client.host if request.client else None
    try:
        # argon2 takes tens of milliseconds by design: off the event loop.
        user = await run_in_threadpool(Login(_engine(), _config().users).sign_in, name, password, address)
    except LoginThrottled as exc:
        page = pages_html.login_page(next_path, f"Not signed in: {exc}.", name, _config().oidc)
        return HTMLResponse(page, status_code=429)
    if user is None:
        page = pages_html.login_page(next_path, "Unknown user name or wrong password.", name, _config().oidc)
        return HTMLResponse(page, status_code=401)
    cookie = await run_in_threadpool(start_session, _engine(), user)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_config().dashboard.public_url.startswith("https://") or request.url.scheme == "https",
    )
    log.info("dashboard sign-in: %s", user.name)
    return response


def logout(request: Request) -> Response:
    if not same_origin(request):
        # Another site's link or image must not sign people out: they confirm it here instead.
        return HTMLResponse(pages_html.sign_out_page(), status_code=200 if request.method == "GET" else 403)
    end_session(_engine(), request.cookies.get(COOKIE))
    response = RedirectResponse("/grumble/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _recipient(request: Request) -> tuple[str, str, str] | Response:
    """The (token, list, address) of an unsubscribe link, or the page saying why it cannot be used."""
    token = request.query_params.get("token", "")
    claim = read_unsubscribe_token(_engine(), token) if token else None
    if claim is None:
        return HTMLResponse(
            pages_html.message_page(
                "Link not valid",
                "This unsubscribe link is not one Grumble made, or it was cut short. Open it from the "
                "digest again, or ask a Grumble admin to take you off the list.",
            ),
            status_code=400,
        )
    digest_list = next((d for d in _config().digests if d.name == claim.list_name), None)
    if digest_list is None or claim.address not in {r.lower() for r in digest_list.recipients}:
        return HTMLResponse(
            pages_html.message_page(
                "Nothing to do", f"{claim.address} is not on a digest list called “{claim.list_name}”."
            ),
            status_code=404,
        )
    return token, claim.list_name, claim.address


def unsubscribe_confirm(request: Request) -> Response:
    found = _recipient(request)
    if isinstance(found, Response):
        return found
    return HTMLResponse(pages_html.unsubscribe_page(*found))


def unsubscribe(request: Request) -> Response:
    """The page's button, and RFC 8058 one-click unsubscribing by mail clients: both POST here.

    Plain functions: Starlette runs them in its thread pool, away from the event loop."""
    return _set_subscription(request, subscribed=False)


def resubscribe(request: Request) -> Response:
    return _set_subscription(request, subscribed=True)


def _set_subscription(request: Request, subscribed: bool) -> Response:
    found = _recipient(request)
    if isinstance(found, Response):
        return found
    token, list_name, address = found
    set_subscribed(_engine(), list_name, address, subscribed=subscribed, at=utcnow())
    return HTMLResponse(pages_html.unsubscribed_page(token, list_name, address, subscribed))


ROUTES = [
    Route("/grumble/login", login_form, methods=["GET"]),
    Route("/grumble/login", login, methods=["POST"]),
    Route("/grumble/logout", logout, methods=["GET", "POST"]),
    Route("/grumble/unsubscribe", unsubscribe_confirm, methods=["GET"]),
    Route("/grumble/unsubscribe", unsubscribe, methods=["POST"]),
    Route("/grumble/resubscribe", resubscribe, methods=["POST"]),
    # The REST API (monitor/api/), built on its first request with this server's config and database.
    Mount(API_PREFIX, app=LazyApi(lambda: (_engine(), _config()))),
    *notice_routes(_engine, _config),  # a notification email's "Stop emails like this"
    Route(HOOKS_PREFIX + "{helpdesk}", hook_endpoint(lambda: _config().helpdesk, _engine), methods=["POST"]),
]

preload()  # the first visitor's page would import all this otherwise
app = st.App(str(Path(__file__).with_name("app.py")), routes=ROUTES, middleware=[Middleware(SignInGate)])
