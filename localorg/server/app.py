"""WSGI application of the local org: routing, authentication, Salesforce-shaped errors, access log.

Every call needs the org's token: `Authorization: Bearer <token>` (or `OAuth <token>`) for REST,
the SOAP `<sessionId>` header for the Metadata API, the `sid` cookie for the Event page. A missing
or wrong token gets Salesforce's INVALID_SESSION_ID answer. Paths under /services that the local
org does not emulate answer 501 NOT_IMPLEMENTED naming the endpoint, never a fake success.
"""

import hmac
import logging
import secrets
import threading
import time
import traceback
from collections import Counter

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from localorg.backend.api_usage import ApiUsage
from localorg.backend.jobs import Jobs
from localorg.backend.soql_run import Cursors
from localorg.errors import SalesforceError
from localorg.server import urls
from localorg.server.api_versions import check_version
from localorg.server.responses import HttpError, error_response, not_implemented

log = logging.getLogger("localorg.server")

LOCAL_HOSTS = ("127.0.0.1", "localhost")
MAP = Map([
    Rule(rule, endpoint=handler, methods=methods, strict_slashes=rule in urls.STRICT_SLASHES)
    for rule, methods, handler in urls.ROUTES
])


class LocalOrgApp:
    """The WSGI app. `org` is a `localorg.backend.Org`; `token` the session id every call needs."""

    def __init__(self, org, token: str, instance_url: str = "", access_log=None,
                 refresh_token: str | None = None):
        self.org = org
        self.token = token
        self.refresh_token = refresh_token  # for /services/oauth2/token (oauth.py); None: none
        self.instance_url = instance_url
        self.access_log = access_log  # a path, or None
        self.calls = Counter()  # "METHOD endpoint" -> count, for tests and bench/
        self.cursors = Cursors()
        self.jobs = Jobs()
        self.usage = ApiUsage()
        self._log_lock = threading.Lock()

    # -- auth
    def valid_token(self, candidate) -> bool:
        return bool(candidate) and hmac.compare_digest(str(candidate), self.token)

    def bearer(self, request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("bearer", "oauth"):
            return value.strip()
        return request.headers.get("X-SFDC-Session")

    def require_bearer(self, request: Request) -> None:
        if not self.valid_token(self.bearer(request)):
            raise invalid_session()

    # -- WSGI
    def __call__(self, environ, start_response):
        request = Request(environ)
        started = time.perf_counter()
        response, endpoint = self.dispatch(request)
        self.add_headers(request, response)
        self.record(request, endpoint, response.status_code, started)
        return response(environ, start_response)

    def dispatch(self, request: Request):
        endpoint_name = request.path
        if request.host.rsplit(":", 1)[0].strip("[]") not in LOCAL_HOSTS:
            # A page on another site resolving its name to 127.0.0.1 (DNS rebinding) lands here.
            err = HttpError(421, "INVALID_HOST", "The local org answers only requests for "
                            "127.0.0.1 or localhost")
            return error_response(err), endpoint_name
        adapter = MAP.bind_to_environ(request.environ)
        try:
            rule, values = adapter.match(return_rule=True)
            endpoint_name = rule.rule
            func = rule.endpoint
            if func in urls.SOAP:
                return func(self, request, **values), endpoint_name
            if "version" in values:
                check_version(values["version"])
            if func not in urls.PUBLIC:
                self.require_bearer(request)
                if request.path.startswith("/services/data/v") and self.usage.exhausted():
                    # fidelity: REST, headers and errors / daily API request allocation
                    raise HttpError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            return func(self, request, **values), endpoint_name
        except SalesforceError as exc:
            return error_response(exc), endpoint_name
        except (NotFound, MethodNotAllowed) as exc:
            if request.path.startswith("/services/"):
                if isinstance(exc, MethodNotAllowed) or request.path.startswith(
                    ("/services/data/", "/services/Soap/", "/services/apexrest/",
                     "/services/async/", "/services/oauth2/")
                ):
                    err = not_implemented(request.method, request.path)
                    if not (request.path.startswith("/services/Soap/")
                            or self.valid_token(self.bearer(request))):
                        # The session is checked first, as for every implemented resource.
                        err = invalid_session()
                    return error_response(err), endpoint_name
            return error_response(
                HttpError(404, "NOT_FOUND", "The requested resource does not exist")
            ), endpoint_name
        except HTTPException as exc:
            return exc.get_response(), endpoint_name
        except Exception:  # a bug in the emulator: say so, with Salesforce's shape
            log.error("unexpected error on %s %s\n%s", request.method, request.path,
                      traceback.format_exc())
            err = HttpError(500, "UNKNOWN_EXCEPTION",
                            "An unexpected error occurred in localorg; see its server log.")
            return error_response(err), endpoint_name

    def add_headers(self, request: Request, response) -> None:
        """REST answers: `WWW-Authenticate: Token` on a 401; `Sforce-Limit-Info` on the others
        under /services/data/vXX.X, which count as API requests (the versions list does not)."""
        if not request.path.startswith("/services/data/v"):
            return
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = "Token"
        else:
            response.headers["Sforce-Limit-Info"] = self.usage.header()

    def record(self, request: Request, endpoint: str, status: int, started: float) -> None:
        """Count and log the call: method, route (never the query string), status, time."""
        action = request.headers.get("SOAPAction", "").strip('"')
        key = f"{request.method} {endpoint}" + (f" {action}" if action else "")
        ms = (time.perf_counter() - started) * 1000
        with self._log_lock:
            self.calls[key] += 1
            if self.access_log:
                with open(self.access_log, "a", encoding="utf-8") as out:
                    out.write(f"{time.time():.3f}\t{key}\t{status}\t{ms:.1f}\n")


def new_session_id(org_id: str) -> str:
    """A session id shaped like Salesforce's, `<15-character org id>!<random part>`: the sf CLI
    refuses an access token of any other shape ("It should follow this pattern: <org id>!<access
    token>")."""
    return f"{org_id[:15]}!{secrets.token_urlsafe(32)}"


def invalid_session() -> HttpError:
    """What Salesforce answers a missing or wrong session (REST API Developer Guide, Status
    Codes and Error Responses: 401, INVALID_SESSION_ID)."""
    return HttpError(401, "INVALID_SESSION_ID", "Session expired or invalid")
