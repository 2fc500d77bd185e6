"""The local org's OAuth 2.0 token endpoint: the refresh token flow, as CumulusCI uses it.

Before each task cci renews a connected org's access token (`OrgConfig.refresh_oauth_token`
POSTs `grant_type=refresh_token`, `refresh_token`, `client_id`, `client_secret` as a form to
`{instance_url}/services/oauth2/token`), so an org saved in cci's keychain works only if its
instance answers that flow. The answer follows Salesforce's "OAuth 2.0 Refresh Token Flow for
Renewed Sessions" (help.salesforce.com, remoteaccess_oauth_refresh_token_flow.htm): JSON with
access_token, signature, scope, instance_url, id, token_type and issued_at; errors are HTTP 400
`{"error", "error_description"}`. Other grant types (logins) are not emulated: the local org
has no passwords, so they answer unsupported_grant_type, never a token.
"""

import base64
import hashlib
import hmac
import time

from localorg.server.responses import json_response, not_implemented


def oauth_error(error: str, description: str):
    return json_response({"error": error, "error_description": description}, 400)


def token(app, request, **_):
    form = request.form
    wanted = (form.get("format") or "json").lower()
    if wanted != "json":
        raise not_implemented(request.method, f"{request.path} (format={wanted})")
    if form.get("grant_type") is None:
        return oauth_error("invalid_request", "grant type is missing")
    if form["grant_type"] != "refresh_token":
        return oauth_error("unsupported_grant_type", "grant type not supported")
    if not form.get("client_id"):
        return oauth_error("invalid_client_id", "client identifier invalid")
    given = form.get("refresh_token") or ""
    if not app.refresh_token or not hmac.compare_digest(given, app.refresh_token):
        return oauth_error("invalid_grant", "expired access/refresh token")
    base_url = app.instance_url or request.host_url.rstrip("/")
    identity = f"{base_url}/id/{app.org.org_id}/{app.org.default_user_id}"
    issued_at = str(int(time.time() * 1000))
    digest = hmac.new(app.refresh_token.encode(), (identity + issued_at).encode(), hashlib.sha256)
    return json_response({
        "access_token": app.token,
        "signature": base64.b64encode(digest.digest()).decode(),
        "scope": "web full refresh_token",
        "instance_url": base_url,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
    })
