"""The few pages served outside Streamlit: signing in, and a digest recipient's unsubscribe page.

Plain HTML with every value escaped, no script: they must work for someone who is not signed in (a
recipient who is not a Grumble user) and must not depend on the Streamlit app being healthy.
"""

from __future__ import annotations

from html import escape

_STYLE = """
body { font-family: system-ui, sans-serif; background: #f6f7f9; color: #1f2328; margin: 0; }
main { max-width: 26rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 10px;
       box-shadow: 0 1px 4px rgba(0,0,0,.12); }
h1 { font-size: 1.4rem; margin-top: 0; }
label { display: block; margin: .8rem 0 .3rem; }
input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem;
       border: 1px solid #c9ccd1; border-radius: 6px; font-size: 1rem; }
button, .button { margin-top: 1.2rem; padding: .55rem 1.1rem; border: 0; border-radius: 6px;
       background: #d93a3a; color: #fff; font-size: 1rem; cursor: pointer; text-decoration: none; }
.error { color: #a40e26; background: #ffebe9; padding: .6rem; border-radius: 6px; }
.note { color: #59636e; font-size: .9rem; }
"""


def page(title: str, body: str) -> str:
    """A whole page; `body` is HTML made from escaped values only."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Grumble</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def login_page(next_path: str, error: str | None = None, name: str = "", oidc: bool = False) -> str:
    problem = f"<p class=error role=alert>{escape(error)}</p>" if error else ""
    provider = (
        '<p class=note>Or <a href="/?sign_in=provider">sign in with your identity provider</a>.</p>'
        if oidc
        else ""
    )
    return page(
        "Sign in",
        "<h1>📣 Grumble</h1>"
        f"{problem}"
        '<form method=post action="/grumble/login">'
        f'<input type=hidden name=next value="{escape(next_path)}">'
        "<label for=name>User name</label>"
        f'<input id=name name=name type=text autocomplete=username value="{escape(name)}" required autofocus>'
        "<label for=password>Password</label>"
        "<input id=password name=password type=password autocomplete=current-password required>"
        "<button type=submit>Sign in</button></form>"
        f"{provider}",
    )


def sign_out_page() -> str:
    return page(
        "Sign out",
        "<h1>📣 Grumble</h1><p>Sign out of Grumble in this browser?</p>"
        '<form method=post action="/grumble/logout"><button type=submit>Sign out</button></form>',
    )


def unsubscribe_page(token: str, list_name: str, address: str) -> str:
    return page(
        "Unsubscribe",
        f"<h1>Stop the “{escape(list_name)}” digest?</h1>"
        f"<p>{escape(address)} will no longer receive it. You can come back at any time.</p>"
        f'<form method=post action="/grumble/unsubscribe?token={escape(token)}">'
        "<button type=submit>Unsubscribe</button></form>",
    )


def unsubscribed_page(token: str, list_name: str, address: str, subscribed: bool) -> str:
    if subscribed:
        return page(
            "Subscribed",
            f"<h1>Welcome back</h1><p>{escape(address)} receives the “{escape(list_name)}” digest again.</p>",
        )
    return page(
        "Unsubscribed",
        f"<h1>Unsubscribed</h1><p>{escape(address)} no longer receives the “{escape(list_name)}” digest.</p>"
        f'<form method=post action="/grumble/resubscribe?token={escape(token)}">'
        "<button type=submit>Receive it again</button></form>",
    )


def message_page(title: str, text: str) -> str:
    return page(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>")
