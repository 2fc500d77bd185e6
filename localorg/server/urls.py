"""The route table of the local org, moto-style: (URL rule, methods, handler), nothing else.

`app` builds its werkzeug Map from `ROUTES`. Handlers are called as
`handler(app, request, **url_values)`. PUBLIC handlers need no bearer token (the Event page checks
its own cookie); SOAP handlers read the session from the envelope.
"""

from localorg.server import actions, metadata, oauth, page, partner, rest, tooling

D = "/services/data/v<version>"
T = f"{D}/tooling"

ROUTES = [
    ("/services/oauth2/userinfo", ["GET", "POST"], rest.userinfo),
    ("/services/oauth2/token", ["POST"], oauth.token),
    ("/services/data", ["GET"], rest.versions),
    (D, ["GET"], rest.resources),
    (f"{D}/limits", ["GET"], rest.limits),
    (f"{D}/sobjects", ["GET"], rest.describe_global),
    (f"{D}/sobjects/<sobject>", ["GET", "POST"], rest.sobject_root),
    (f"{D}/sobjects/<sobject>/describe", ["GET"], rest.describe),
    (f"{D}/sobjects/<sobject>/<record_id>", ["GET", "PATCH", "DELETE"], rest.record),
    (f"{D}/query", ["GET"], rest.query),
    (f"{D}/queryAll", ["GET"], rest.query_all),
    (f"{D}/query/<locator>", ["GET"], rest.query_more),
    (f"{D}/queryAll/<locator>", ["GET"], rest.query_more),
    (f"{D}/composite/sobjects", ["POST", "PATCH", "DELETE"], rest.collections_call),
    (f"{D}/composite/sobjects/<sobject>/<key_field>", ["PATCH"], rest.collections_upsert),
    (f"{D}/composite", ["POST"], rest.composite),
    (f"{D}/actions/custom/flow/<name>", ["POST"], actions.flow_action),
    (f"{T}/query", ["GET"], tooling.query),
    (f"{T}/sobjects/<sobject>", ["POST"], tooling.create),
    (f"{T}/sobjects/<sobject>/<record_id>", ["GET", "PATCH"], tooling.record),
    ("/services/Soap/m/<version>", ["POST"], metadata.soap),
    ("/services/Soap/m/<version>/<org_id>", ["POST"], metadata.soap),
    ("/services/Soap/u/<version>", ["POST"], partner.soap),
    ("/secur/frontdoor.jsp", ["GET"], page.frontdoor),
    ("/lightning/r/Event/<record_id>/view", ["GET"], page.event),
]
# Rules where a trailing slash is another URL (404); the others accept one, as Salesforce does.
STRICT_SLASHES = {
    f"{D}/query/<locator>", f"{D}/queryAll/<locator>", "/services/Soap/m/<version>",
    "/services/Soap/m/<version>/<org_id>", "/services/Soap/u/<version>", "/secur/frontdoor.jsp",
    "/lightning/r/Event/<record_id>/view",
}
PUBLIC = (page.frontdoor, page.event, oauth.token)  # token: its own refresh_token
SOAP = (metadata.soap, partner.soap)
