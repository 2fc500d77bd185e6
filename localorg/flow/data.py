"""Data elements of a flow interview: Get, Create, Update and Delete Records.

Each yields a `Request` to the scheduler, which runs the same element of many interviews as one
SOQL query or DML statement, and sends back this interview's share of the result (or the error).
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


class DataElements:
    """Mixin of `Interview`: the data elements."""

    def where(self, node, sobject, element):
        conds = []
        for f in children(node, "filters"):
            field, op = text(f, "field"), text(f, "operator")
            value = self.value(child(f, "value"), element)
            if op == "IsNull":
                conds.append(Cmp(field, "=" if value else "!=", None))
            elif op in ("Contains", "StartsWith", "EndsWith"):
                esc = re.sub(r"([%_\\])", r"\\\1", formula.text(value))
                pattern = {"Contains": f"%{esc}%", "StartsWith": f"{esc}%",
                           "EndsWith": f"%{esc}"}[op]
                conds.append(Cmp(field, "LIKE", pattern))
            elif op in _SOQL_OPS:
                if op in ("In", "NotIn"):
                    value = [self.soql_value(v) for v in (value or [])]
                else:
                    value = self.soql_value(value)
                conds.append(Cmp(field, _SOQL_OPS[op], value))
            else:
                self.unsupported(element, f"the Get Records filter operator {op}")
        if not conds:
            return None
        return parse_logic(text(node, "filterLogic"), conds)

    @staticmethod
    def soql_value(v):
        if isinstance(v, dict):
            return v.get("Id")
        if isinstance(v, Decimal):
            return int(v) if v == v.to_integral() else float(v)
        return v

    def request(self, kind, el, sobject, **kw):
        # Bulkified with other interviews only at the same element reached through the same
        # Subflow elements (fidelity: Flow runtime / bulkification).
        return Request(kind, (self.path, self.flow.name, el.name, kind, sobject), sobject, **kw)

    def handle(self, el, kind, result):
        """Route a failed data element: fault connector or unhandled fault."""
        self.forget()  # the store answered: records and $User may have changed
        if isinstance(result, LimitException):
            raise result
        if not isinstance(result, SalesforceError):
            return None
        message = fault_message(kind, result)
        target = connector_target(el.node, "faultConnector")
        if target is None:
            raise FlowFault(self.flow.name, el.name, message)
        self.fault_message = message
        return target

    def do_recordLookups(self, el):  # noqa: N802
        sobject = text(el.node, "object")
        odef = self.rt.org.describe(sobject)
        fields = [f.text for f in children(el.node, "queriedFields")]
        fields += [text(a, "field") for a in children(el.node, "outputAssignments")]
        if not fields:
            fields = [f.name for f in odef.fields.values()]
        if "Id" not in fields:
            fields.insert(0, "Id")
        first = text(el.node, "getFirstRecordOnly") == "true"
        sort = text(el.node, "sortField")
        order = [(sort, text(el.node, "sortOrder") == "Desc", None)] if sort and text(
            el.node, "sortOrder") in ("Asc", "Desc") else None
        limit = 1 if first else self.limit(el)
        result = yield self.request("query", el, odef.name, fields=fields,
                                    where=self.where(el.node, sobject, el.name),
                                    order_by=order, limit=limit)
        fault = self.handle(el, "query", result)
        if fault:
            return fault
        records = [{**r, "attributes": {"type": odef.name}} for r in result]
        # No record found: null, for a collection too (fidelity: Flow runtime / Get Records).
        output = (records[0] if first else records) if records else None
        if text(el.node, "storeOutputAutomatically") == "true":
            self.auto[el.name] = output
        if text(el.node, "outputReference"):
            self.assign(text(el.node, "outputReference"), output, el.name)
        assignments = children(el.node, "outputAssignments")
        if assignments and (records or text(el.node, "assignNullValuesIfNoRecordsFound")
                            == "true"):
            for a in assignments:
                value = records[0].get(odef.field(text(a, "field")).name) if records else None
                self.assign(text(a, "assignToReference"),
                            typed(value, odef.field(text(a, "field")).type), el.name)
        return connector_target(el.node)

    def limit(self, el):
        node = child(el.node, "limit")
        if node is None:
            return None
        value = self.value(node, el.name) if len(node) else node.text
        return int(value) if value is not None else None

    def records_of(self, el):
        ref = text(el.node, "inputReference")
        value = self.resolve(ref, el.name)
        items = value if isinstance(value, list) else ([value] if value else [])
        for item in items:
            if not isinstance(item, dict) or "attributes" not in item:
                self.fail(el.name, f"{ref} does not hold records")
        return items

    def writable(self, record, creating):
        odef = self.rt.org.describe(record["attributes"]["type"])
        out = {}
        for key, value in record.items():
            if key == "attributes" or not odef.has(key):
                continue
            fdef = odef.field(key)
            if key == "Id" and not creating:
                out["Id"] = value
            elif (fdef.createable if creating else fdef.updateable) and (
                    value is not None or not creating):
                out[fdef.name] = value
        return out

    def do_recordCreates(self, el):  # noqa: N802
        if text(el.node, "inputReference"):
            targets = self.records_of(el)
            if not targets:
                return connector_target(el.node)
            sobject = targets[0]["attributes"]["type"]
            rows = [self.writable(r, creating=True) for r in targets]
        else:
            sobject = self.rt.org.describe(text(el.node, "object")).name
            row = {text(a, "field"): self.value(child(a, "value"), el.name)
                   for a in children(el.node, "inputAssignments")}
            targets, rows = None, [row]
        result = yield self.request("insert", el, sobject, records=rows)
        fault = self.handle(el, "insert", result)
        if fault:
            return fault
        ids = [r["id"] for r in result]
        if targets is not None:
            for rec, rid in zip(targets, ids, strict=True):
                rec["Id"] = rid
        else:
            if text(el.node, "storeOutputAutomatically") == "true":
                self.auto[el.name] = ids[0]
            if text(el.node, "assignRecordIdToReference"):
                self.assign(text(el.node, "assignRecordIdToReference"), ids[0], el.name)
        return connector_target(el.node)

    def do_recordUpdates(self, el):  # noqa: N802
        values = {text(a, "field"): self.value(child(a, "value"), el.name)
                  for a in children(el.node, "inputAssignments")}
        if text(el.node, "inputReference"):
            targets = self.records_of(el)
            if not targets:
                return connector_target(el.node)
            sobject = targets[0]["attributes"]["type"]
            if values:  # e.g. $Record with "Set Field Values": only those fields are written
                rows = [{"Id": r.get("Id"), **values} for r in targets]
            else:
                rows = [self.writable(r, creating=False) for r in targets]
            if any(not r.get("Id") for r in rows):
                result = SalesforceError("MISSING_ARGUMENT", "Id not specified in an update call")
                return self.handle(el, "update", result)
        else:
            sobject, found, fault = yield from self.filtered(el, "update")
            if fault:
                return fault
            rows = [{"Id": r["Id"], **values} for r in found]
        result = yield self.request("update", el, sobject, records=rows)
        return self.handle(el, "update", result) or connector_target(el.node)

    def filtered(self, el, action):
        """The records an update or delete element's filters find, by one (bulkified) query:
        (sobject, records, the fault path taken when the query failed, else None)."""
        sobject = self.rt.org.describe(text(el.node, "object")).name
        found = yield self.request("query", el, sobject, fields=["Id"],
                                   where=self.where(el.node, sobject, el.name))
        return sobject, found, self.handle(el, action, found)

    def do_recordDeletes(self, el):  # noqa: N802
        if text(el.node, "inputReference"):
            targets = self.records_of(el)
            sobject = targets[0]["attributes"]["type"] if targets else None
            rows = [{"Id": r["Id"]} for r in targets]
        else:
            sobject, found, fault = yield from self.filtered(el, "delete")
            if fault:
                return fault
            rows = [{"Id": r["Id"]} for r in found]
        if not rows:
            return connector_target(el.node)
        result = yield self.request("delete", el, sobject, records=rows)
        return self.handle(el, "delete", result) or connector_target(el.node)


