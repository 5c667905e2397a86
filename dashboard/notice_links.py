"""The pages a notification email's "Stop emails like this" link opens (outside the sign-in gate, like
the digests' unsubscribe pages, since a mail client's one-click POST has no session): a confirmation
page, the POST that turns that kind of email off for its person (RFC 8058 one-click too), and the way
back on. The link's token is signed (monitor/team/unsubscribe.py); nothing else is trusted."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from dashboard import pages_html
from monitor.config import Config
from monitor.mention import utcnow
from monitor.store.notifications import set_email_choice
from monitor.team.notifications import KINDS
from monitor.team.unsubscribe import PATH, NoticeChoice, read_notice_token

RESUBSCRIBE_PATH = "/grumble/notifications/resubscribe"


def notice_routes(engine: Callable[[], Engine], config: Callable[[], Config]) -> list[Route]:
    """The routes, reading the server's engine and config through its own cached getters."""

    def claim(request: Request) -> tuple[str, NoticeChoice] | Response:
        token = request.query_params.get("token", "")
        found = read_notice_token(engine(), token) if token else None
        if found is None:
            return HTMLResponse(
                pages_html.message_page(
                    "Link not valid",
                    "This link is not one Grumble made, or it was cut short. Open it from the email again, "
                    "or choose which emails you get on the For you page in Grumble.",
                ),
                status_code=400,
            )
        if found.kind not in KINDS or not any(u.name == found.user_name for u in config().users):
            return HTMLResponse(
                pages_html.message_page("Nothing to do", f"{found.user_name} gets no such emails here."),
                status_code=404,
            )
        return token, found

    def confirm(request: Request) -> Response:
        found = claim(request)
        if isinstance(found, Response):
            return found
        token, choice = found
        return HTMLResponse(
            pages_html.page(
                "Stop these emails",
                f"<h1>Stop emails for “{escape(KINDS[choice.kind])}”?</h1>"
                f"<p>{escape(choice.user_name)} will still see them on the For you page in Grumble.</p>"
                f'<form method=post action="{PATH}?token={escape(token)}">'
                "<button type=submit>Stop these emails</button></form>",
            )
        )

    def choose(request: Request, email: bool) -> Response:
        found = claim(request)
        if isinstance(found, Response):
            return found
        token, choice = found
        set_email_choice(engine(), choice.user_name, choice.kind, email, utcnow())
        label = escape(KINDS[choice.kind])
        if email:
            body = (
                f"<h1>Emails back on</h1><p>{escape(choice.user_name)} gets emails for “{label}” again.</p>"
            )
        else:
            body = (
                f"<h1>Emails stopped</h1><p>{escape(choice.user_name)} gets no more emails for “{label}”;"
                " they stay on the For you page.</p>"
                f'<form method=post action="{RESUBSCRIBE_PATH}?token={escape(token)}">'
                "<button type=submit>Email me again</button></form>"
            )
        return HTMLResponse(pages_html.page("Notification emails", body))

    # Plain functions: Starlette runs them in its thread pool, away from the event loop.
    def stop(request: Request) -> Response:
        return choose(request, email=False)

    def restart(request: Request) -> Response:
        return choose(request, email=True)

    return [
        Route(PATH, confirm, methods=["GET"]),
        Route(PATH, stop, methods=["POST"]),
        Route(RESUBSCRIBE_PATH, restart, methods=["POST"]),
    ]
