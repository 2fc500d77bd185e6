"""Browser routes: Salesforce's frontdoor login URL and the read-only Event record page.

The Event page is rendered by `localorg.page` from the deployed Event layout. The session id
arrives in the frontdoor query string (as `cci org browser` sends it) and is kept in an HttpOnly
cookie; the access log never records query strings.
"""

from html import escape

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from localorg.page import EVENT_LAYOUT_NAME, EventPageError, render_event_page


def html(status: int, title: str, text: str) -> Response:
    body = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"</head><body><h1>{escape(title)}</h1><p>{escape(text)}</p></body></html>")
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def unauthorized() -> Response:
    return html(401, "Session expired or invalid",
                "Log in again: open the URL `cci org browser local` prints.")


def frontdoor(app, request):
    if not app.valid_token(request.args.get("sid")):
        return unauthorized()
    target = request.args.get("retURL") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = redirect(target, code=302)
    response.set_cookie("sid", app.token, httponly=True, samesite="Strict", path="/",
                        secure=request.scheme == "https")
    return response


def event(app, request, record_id):
    if not (app.valid_token(request.cookies.get("sid")) or app.valid_token(app.bearer(request))):
        return unauthorized()
    stored = app.org.component("Layout", EVENT_LAYOUT_NAME)
    layout_xml = stored["body"] if stored else None
    try:
        text = render_event_page(app.org, record_id, layout_xml)
    except EventPageError as exc:
        return Response(exc.html, status=exc.status, content_type="text/html; charset=utf-8")
    return Response(text, content_type="text/html; charset=utf-8")
