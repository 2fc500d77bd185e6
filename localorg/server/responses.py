"""Salesforce-shaped HTTP answers shared by the REST, Tooling and page handlers."""

import json

from werkzeug.wrappers import Response

from localorg.errors import DmlError, SalesforceError

# HTTP status per error code, as in the REST API Developer Guide's "Status Codes and Error
# Responses" (developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm):
# 401 bad session, 404 unknown resource, 405 wrong method, 500 server error, otherwise 400.
# 501 is the local org's own: an API it does not emulate.
_STATUS = {
    "INVALID_SESSION_ID": 401,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "NOT_IMPLEMENTED": 501,
    "UNKNOWN_EXCEPTION": 500,
}


class HttpError(SalesforceError):
    """A SalesforceError with an explicit HTTP status."""

    def __init__(self, status: int, code: str, message: str, fields=None):
        super().__init__(code, message, fields)
        self.status = status


def not_implemented(method: str, path: str) -> HttpError:
    return HttpError(501, "NOT_IMPLEMENTED", f"{method} {path} is not implemented by localorg")


def json_response(body, status=200, headers=None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers,
                    content_type="application/json;charset=UTF-8")


def error_response(exc: SalesforceError) -> Response:
    """Salesforce's REST error body: [{"message", "errorCode"[, "fields"]}]."""
    status = getattr(exc, "status", None) or _STATUS.get(exc.code, 400)
    item = {"message": exc.message, "errorCode": exc.code}
    if exc.fields or isinstance(exc, DmlError):
        item["fields"] = exc.fields
    return json_response([item], status)
