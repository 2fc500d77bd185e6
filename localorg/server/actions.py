"""Invocable flow actions over REST: `POST /services/data/vXX.X/actions/custom/flow/<name>`
with `{"inputs": [...]}` (REST API Developer Guide, "Flow Actions"); the work is
`localorg.flow.actions`."""

from localorg.flow.actions import ActionError, invoke
from localorg.server.responses import HttpError, json_response
from localorg.server.rest import read_json


def flow_action(app, request, version, name):
    body = read_json(request)
    inputs = body.get("inputs") if isinstance(body, dict) else None
    try:
        results = invoke(app.org, name, inputs)
    except ActionError as exc:
        raise HttpError(exc.status, exc.code, exc.message) from exc
    status = 200 if all(r["isSuccess"] for r in results) else 400
    return json_response(results, status)
