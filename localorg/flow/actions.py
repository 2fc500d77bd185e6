"""Invocable flow actions: run an autolaunched flow once per input, as REST's
`POST /services/data/vXX.X/actions/custom/flow/<name>` does (docs/fidelity.md, Flow runtime).

All inputs of one call run together in one transaction, bulkified like a trigger batch: the same
element across the interviews is one query or one DML. The call is all-or-none: when one
interview fails, nothing of the call is kept, the failed input gets the error and the others
say they were rolled back with it.
"""

from datetime import date
from decimal import Decimal

from localorg.errors import LimitException, SalesforceError
from localorg.flow import model
from localorg.flow.faults import FlowCustomError, FlowFault
from localorg.flow.interpreter import Interview
from localorg.flow.scheduler import Runtime
from localorg.values import parse_datetime

MAX_INPUTS = 200


class ActionError(SalesforceError):
    """The call itself is refused (unknown flow, wrong flow type, bad inputs): HTTP 400/404."""

    def __init__(self, status, code, message):
        super().__init__(code, message)
        self.status = status


def _latest(org, name):
    flow = next((f for f in org.flows() if f["name"].lower() == name.lower()), None)
    if flow is None:
        raise ActionError(404, "NOT_FOUND", "The requested resource does not exist")
    return flow


def _value(var, value, flow_name, index):
    """A JSON input value as the flow runtime holds a value of the variable's type."""
    if value is None or var.is_collection:
        return value
    kind = var.data_type
    try:
        if kind in ("Number", "Currency"):
            return Decimal(str(value))
        if kind == "Boolean":
            if not isinstance(value, bool):
                raise ValueError("true or false")
            return value
        if kind == "DateTime":
            return parse_datetime(value)
        if kind == "Date":
            return date.fromisoformat(str(value)[:10])
    except (ValueError, ArithmeticError) as err:
        raise ActionError(400, "INVALID_TYPE", f"inputs[{index}].{var.name} of flow {flow_name}: "
                          f"{value!r} is not a {kind} value") from err
    return value


def _record(org, var, value, flow_name, index):
    """An SObject input: the record exactly as the call gives it (Salesforce reads nothing from
    the database for it: a field the call leaves out is null in the flow)."""
    if not isinstance(value, dict):
        raise ActionError(400, "INVALID_TYPE", f"inputs[{index}].{var.name} of flow {flow_name}: "
                          f"give a {var.object_type} record as a JSON object")
    odef = org.describe(var.object_type)
    record = {"attributes": {"type": odef.name}}
    for key, item in value.items():
        if key == "attributes":
            continue
        if not odef.has(key):
            raise ActionError(400, "INVALID_FIELD", f"inputs[{index}].{var.name}: No such column "
                              f"'{key}' on sobject of type {odef.name}")
        record[odef.field(key).name] = item
    return record


def _inputs(org, flow, raw, index):
    if not isinstance(raw, dict):
        raise ActionError(400, "JSON_PARSER_ERROR", f"inputs[{index}] must be a JSON object")
    values = {}
    for key, value in raw.items():
        var = flow.variable(key)
        if var is None or not var.is_input:
            allowed = sorted(v.name for v in flow.variables.values() if v.is_input)
            raise ActionError(400, "INVALID_INPUT", f"inputs[{index}]: {key} is not an input "
                              f"variable of flow {flow.name}; its inputs: {', '.join(allowed)}")
        if var.data_type == "SObject" and not var.is_collection and value is not None:
            values[var.name] = _record(org, var, value, flow.name, index)
        else:
            values[var.name] = _value(var, value, flow.name, index)
    return values


def _outputs(interview, values):
    out = {name: _json(value) for name, value in values.items()}
    return {**out, "Flow__InterviewGuid": interview.guid, "Flow__InterviewStatus": "Finished"}


def _json(value):
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral() else int(value)
    if isinstance(value, list):
        return [_json(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def invoke(org, name, inputs, user_id=None):
    """Run flow `name` once per input; [result per input] in Salesforce's action result shape.
    Raises ActionError when the call itself is refused."""
    if not isinstance(inputs, list) or not inputs:
        raise ActionError(400, "JSON_PARSER_ERROR", 'Give {"inputs": [ {...}, ... ]} with at '
                          "least one input")
    if len(inputs) > MAX_INPUTS:
        raise ActionError(400, "LIMIT_EXCEEDED", f"{len(inputs)} inputs: at most {MAX_INPUTS} "
                          "a call; split them")
    info = _latest(org, name)
    results = [None] * len(inputs)
    try:
        with org.transaction(user_id=user_id) as txn:
            runtime = Runtime(org, txn)
            # A flow admin invoking a flow runs its latest version (REST API Developer Guide,
            # Custom Invocable Actions); the local org's only user is an admin.
            runtime_flow = model.load_cached(
                runtime.cache, org.flow_xml(info["name"], info["latest_version"]), info["name"])
            if runtime_flow.process_type != "AutoLaunchedFlow" or runtime_flow.trigger:
                raise ActionError(400, "INVALID_TYPE", f"Flow {info['name']} is not an "
                                  "autolaunched flow: only those can be invoked")
            interviews = [Interview(runtime, runtime_flow, _inputs(org, runtime_flow, raw, i))
                          for i, raw in enumerate(inputs)]
            values = runtime.run(interviews)
            for i, interview in enumerate(interviews):
                results[i] = _result(info["name"], _outputs(interview, values[i]))
    except ActionError:
        raise
    except (FlowFault, FlowCustomError, LimitException, SalesforceError) as exc:
        failed = getattr(exc, "interview", None)
        for i in range(len(inputs)):
            message = exc.message if failed in (i, None) else (
                f"Rolled back: input {failed} of the same call failed")
            code = exc.code if failed in (i, None) else "ALL_OR_NONE_OPERATION_ROLLED_BACK"
            results[i] = _result(info["name"], None, code, message)
    return results


def _result(name, outputs, code=None, message=None):
    return {
        "actionName": name,
        "errors": None if code is None else [{"statusCode": code, "message": message,
                                              "fields": []}],
        "invocationId": None,
        "isSuccess": code is None,
        "outcome": None,
        "outputValues": outputs,
        "sortOrder": -1,
        "version": 1,
    }
