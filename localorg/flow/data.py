"""Data elements of a flow interview: Get, Create, Update and Delete Records.

`compile_data(program, element)` compiles one data element into a generator function
`run(interview)`. It yields a `Request` to the scheduler, which runs the same element of many
interviews as one SOQL query or DML statement, and sends back this interview's share of the
result (or the error); `run` returns the next element's name.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from localorg.conditions import Cmp
from localorg.errors import LimitException, SalesforceError
from localorg.flow import formula
from localorg.flow.compare import parse_logic, typed
from localorg.flow.faults import FlowFault, fault_message
from localorg.flow.model import child, children, connector_target, text


@dataclass
class Request:
    """One data request of one interview; requests with equal `key` run as one statement."""

    kind: str  # query | insert | update | delete
    key: tuple  # (call path, flow, element, kind, sobject)
    sobject: str
    records: list = None  # insert/update: field dicts; delete: [{"Id": …}]
    fields: list = None
    where: object = None
    order_by: list = None
    limit: int | None = None


_SOQL_OPS = {"EqualTo": "=", "NotEqualTo": "!=", "GreaterThan": ">", "LessThan": "<",
             "GreaterThanOrEqualTo": ">=", "LessThanOrEqualTo": "<=", "In": "IN",
             "NotIn": "NOT IN"}


def compile_data(prog, el):
    """The generator function of a data element, or None for any other element kind."""
    make = {"recordLookups": _lookup, "recordCreates": _create, "recordUpdates": _update,
            "recordDeletes": _delete}.get(el.kind)
    return make(prog, el) if make else None


def soql_value(v):
    if isinstance(v, dict):
        return v.get("Id")
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral() else float(v)
    return v


def _where(prog, node, element):
    """`where(interview)`: the element's filters as a condition tree (None without filters)."""
    filters = [(text(f, "field"), text(f, "operator"), prog.value(child(f, "value"), element))
               for f in children(node, "filters")]
    logic = text(node, "filterLogic")

    def where(iv):
        conds = []
        for field, op, get in filters:
            value = get(iv)
            if op == "IsNull":
                conds.append(Cmp(field, "=" if value else "!=", None))
            elif op in ("Contains", "StartsWith", "EndsWith"):
                esc = re.sub(r"([%_\\])", r"\\\1", formula.text(value))
                pattern = {"Contains": f"%{esc}%", "StartsWith": f"{esc}%",
                           "EndsWith": f"%{esc}"}[op]
                conds.append(Cmp(field, "LIKE", pattern))
            elif op in _SOQL_OPS:
                if op in ("In", "NotIn"):
                    value = [soql_value(v) for v in (value or [])]
                else:
                    value = soql_value(value)
                conds.append(Cmp(field, _SOQL_OPS[op], value))
            else:
                iv.unsupported(element, f"the Get Records filter operator {op}")
        if not conds:
            return None
        return parse_logic(logic, conds)
    return where


def request(iv, kind, element, sobject, **kw):
    # Bulkified with other interviews only at the same element reached through the same
    # Subflow elements (fidelity: Flow runtime / bulkification).
    return Request(kind, (iv.path, iv.flow.name, element, kind, sobject), sobject, **kw)


def _handler(node, element):
    """`handle(interview, kind, result)`: route a failed data element to its fault connector
    (returning it) or raise an unhandled fault; None when the element succeeded."""
    fault = connector_target(node, "faultConnector")

    def handle(iv, kind, result):
        iv.memo.clear()  # the store answered: records and $User may have changed
        if isinstance(result, LimitException):
            raise result
        if not isinstance(result, SalesforceError):
            return None
        message = fault_message(kind, result)
        if fault is None:
            raise FlowFault(iv.flow.name, element, message)
        iv.fault_message = message
        return fault
    return handle


def record_limit(value):
    """A Get Records `limit` as a number of records: a whole number of at least 1, else None
    (the deploy refuses other values; docs/fidelity.md, "Metadata API")."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:  # decimal.InvalidOperation: not a number
        return None
    if not number.is_finite() or number != number.to_integral_value() or number < 1:
        return None
    return int(number)


def _limit(prog, node, element):
    limit = child(node, "limit")
    if limit is None:
        return lambda iv: None
    get = prog.value(limit, element) if len(limit) else (lambda iv: limit.text)

    def value(iv):
        found = get(iv)
        if found is None:
            return None
        count = record_limit(found)
        if count is None:  # a flow stored before the deploy check, or a variable's value
            iv.fail(element, f"the limit of records to get must be a whole number of at least "
                             f"1, got {found}")
        return count
    return value


def _lookup(prog, el):
    node, name = el.node, el.name
    sobject = text(node, "object")
    queried = [f.text for f in children(node, "queriedFields")]
    queried += [text(a, "field") for a in children(node, "outputAssignments")]
    first = text(node, "getFirstRecordOnly") == "true"
    sort, sort_order = text(node, "sortField"), text(node, "sortOrder")
    ordered = bool(sort) and sort_order in ("Asc", "Desc")
    limit, where = _limit(prog, node, name), _where(prog, node, name)
    store = text(node, "storeOutputAutomatically") == "true"
    output = text(node, "outputReference")
    output = prog.setter(output, name) if output else None
    assigns = [(text(a, "field"), prog.setter(text(a, "assignToReference"), name))
               for a in children(node, "outputAssignments")]
    null_if_none = text(node, "assignNullValuesIfNoRecordsFound") == "true"
    handle, target = _handler(node, name), connector_target(node)

    def run(iv):
        odef = iv.rt.org.describe(sobject)
        fields = list(queried) or [f.name for f in odef.fields.values()]
        if "Id" not in fields:
            fields.insert(0, "Id")
        order = [(sort, sort_order == "Desc", None)] if ordered else None
        count = 1 if first else limit(iv)
        result = yield request(iv, "query", name, odef.name, fields=fields, where=where(iv),
                               order_by=order, limit=count)
        fault = handle(iv, "query", result)
        if fault:
            return fault
        records = [{**r, "attributes": {"type": odef.name}} for r in result]
        # No record found: null, for a collection too (fidelity: Flow runtime / Get Records).
        found = (records[0] if first else records) if records else None
        if store:
            iv.auto[name] = found
        if output is not None:
            output(iv, found)
        if assigns and (records or null_if_none):
            for field, assign in assigns:
                fdef = odef.field(field)
                assign(iv, typed(records[0].get(fdef.name) if records else None, fdef.type))
        return target
    return run


def _records_of(prog, node, element):
    """`records(interview)`: the records the element's inputReference holds."""
    ref = text(node, "inputReference")
    get = prog.getter(ref, element)

    def records(iv):
        value = get(iv)
        items = value if isinstance(value, list) else ([value] if value else [])
        for item in items:
            if not isinstance(item, dict) or "attributes" not in item:
                iv.fail(element, f"{ref} does not hold records")
        return items
    return records


def writable(rt, record, creating):
    """The fields of `record` a create (or update) may write."""
    sobject, plans = record["attributes"]["type"], rt.writable
    out = {}
    for key, value in record.items():
        plan = plans.get((sobject, key, creating), False)
        if plan is False:
            plan = plans[(sobject, key, creating)] = _plan(rt, sobject, key, creating)
        if plan is not None and (value is not None or not plan[1]):
            out[plan[0]] = value
    return out


def _plan(rt, sobject, key, creating):
    """(the field name written, whether a null is left out) of a record's key, None when the
    key is not written."""
    odef = rt.org.describe(sobject)
    if key == "attributes" or not odef.has(key):
        return None
    fdef = odef.field(key)
    if key == "Id" and not creating:
        return ("Id", False)
    if fdef.createable if creating else fdef.updateable:
        return (fdef.name, creating)
    return None


def _field_values(prog, node, element):
    """`values(interview)`: {field: value} of the element's inputAssignments."""
    pairs = [(text(a, "field"), prog.value(child(a, "value"), element))
             for a in children(node, "inputAssignments")]
    return lambda iv: {field: get(iv) for field, get in pairs}


def _create(prog, el):
    node, name = el.node, el.name
    by_reference = bool(text(node, "inputReference"))
    targets_of = _records_of(prog, node, name) if by_reference else None
    sobject_name = text(node, "object")
    values = _field_values(prog, node, name)
    store = text(node, "storeOutputAutomatically") == "true"
    id_ref = text(node, "assignRecordIdToReference")
    assign_id = prog.setter(id_ref, name) if id_ref else None
    handle, target = _handler(node, name), connector_target(node)

    def run(iv):
        if by_reference:
            targets = targets_of(iv)
            if not targets:
                return target
            sobject = targets[0]["attributes"]["type"]
            rows = [writable(iv.rt, r, creating=True) for r in targets]
        else:
            sobject = iv.rt.org.describe(sobject_name).name
            targets, rows = None, [values(iv)]
        result = yield request(iv, "insert", name, sobject, records=rows)
        fault = handle(iv, "insert", result)
        if fault:
            return fault
        ids = [r["id"] for r in result]
        if targets is not None:
            for rec, rid in zip(targets, ids, strict=True):
                rec["Id"] = rid
        else:
            if store:
                iv.auto[name] = ids[0]
            if assign_id is not None:
                assign_id(iv, ids[0])
        return target
    return run


def _filtered(iv, name, sobject_name, where, handle, action):
    """The records an update or delete element's filters find, by one (bulkified) query:
    (sobject, records, the fault path taken when the query failed, else None)."""
    sobject = iv.rt.org.describe(sobject_name).name
    found = yield request(iv, "query", name, sobject, fields=["Id"], where=where(iv))
    return sobject, found, handle(iv, action, found)


def _update(prog, el):
    node, name = el.node, el.name
    values = _field_values(prog, node, name)
    by_reference = bool(text(node, "inputReference"))
    targets_of = _records_of(prog, node, name) if by_reference else None
    sobject_name, where = text(node, "object"), _where(prog, node, name)
    handle, target = _handler(node, name), connector_target(node)

    def run(iv):
        given = values(iv)
        if by_reference:
            targets = targets_of(iv)
            if not targets:
                return target
            sobject = targets[0]["attributes"]["type"]
            if given:  # e.g. $Record with "Set Field Values": only those fields are written
                rows = [{"Id": r.get("Id"), **given} for r in targets]
            else:
                rows = [writable(iv.rt, r, creating=False) for r in targets]
            if any(not r.get("Id") for r in rows):
                result = SalesforceError("MISSING_ARGUMENT", "Id not specified in an update call")
                return handle(iv, "update", result)
        else:
            sobject, found, fault = yield from _filtered(iv, name, sobject_name, where, handle,
                                                         "update")
            if fault:
                return fault
            rows = [{"Id": r["Id"], **given} for r in found]
        result = yield request(iv, "update", name, sobject, records=rows)
        return handle(iv, "update", result) or target
    return run


def _delete(prog, el):
    node, name = el.node, el.name
    by_reference = bool(text(node, "inputReference"))
    targets_of = _records_of(prog, node, name) if by_reference else None
    sobject_name, where = text(node, "object"), _where(prog, node, name)
    handle, target = _handler(node, name), connector_target(node)

    def run(iv):
        if by_reference:
            targets = targets_of(iv)
            sobject = targets[0]["attributes"]["type"] if targets else None
            rows = [{"Id": r["Id"]} for r in targets]
        else:
            sobject, found, fault = yield from _filtered(iv, name, sobject_name, where, handle,
                                                         "delete")
            if fault:
                return fault
            rows = [{"Id": r["Id"]} for r in found]
        if not rows:
            return target
        result = yield request(iv, "delete", name, sobject, records=rows)
        return handle(iv, "delete", result) or target
    return run
