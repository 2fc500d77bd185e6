"""One flow interview as a Python generator that yields its data requests.

An `Interview` walks the flow's elements. Assignments, decisions, loops, formulas and custom errors
run in place; a data element (Get/Create/Update/Delete Records) yields a `Request` and waits for
the scheduler (`localorg.flow.scheduler`) to send back its result, so that the same element of
many interviews becomes one SOQL query or one DML statement. A subflow runs as a nested
interview through `yield from`, so its data elements are bulkified the same way.

Semantics kept from Salesforce: Get Records filters compare text case-insensitively (they are
SOQL), decision conditions compare text case-sensitively; record variables are references (adding
a record variable to a collection adds the same record); a failing data element with a fault
connector sets $Flow.FaultMessage and follows it, without one the fault is unhandled
(`FlowFault`); governor limit exceptions are never caught by a fault path. Anything this runtime
does not execute (an element kind, operator, value kind or global variable) raises NOT_IMPLEMENTED
naming the flow and element, which no fault path catches either.
"""

import functools
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from localorg.conditions import holds
from localorg.errors import NotImplementedInLocalOrg
from localorg.flow import formula
from localorg.flow.compare import compare, flow_equal, parse_logic, typed
from localorg.flow.data import DataElements
from localorg.flow.faults import FlowCustomError, FlowFault
from localorg.flow.model import child, children, connector_target, text
from localorg.values import parse_datetime

# Subflow input types for which Salesforce turns a null value into "" in the referenced flow.
NULL_TO_EMPTY = {"String", "Picklist", "Multipicklist"}
_MERGE = re.compile(r"\{!\s*([^}]+?)\s*\}")


@functools.lru_cache(maxsize=1024)
def _logic(logic, count):
    """The condition tree of a decision rule's logic over condition numbers 0..count-1."""
    return parse_logic(logic, list(range(count)))


@functools.lru_cache(maxsize=4096)
def _split(ref):
    """(head, head lower-cased, [parts after the head]) of a reference such as var.Field."""
    parts = ref.strip().split(".")
    return parts[0], parts[0].lower(), tuple(parts[1:])


class Interview(DataElements):
    """One run of one flow. `run()` is a generator of Requests returning the output variables."""

    def __init__(self, runtime, flow, inputs=None, record=None, path=(), start=None):
        self.rt = runtime
        self.flow = flow
        self.start = start or flow.start  # flow.async_start for the asynchronous path
        self.path = path  # ((flow, Subflow element), ...) that called this interview
        self.record = record
        self.vars = {}
        self.loops = {}
        self.auto = {}  # storeOutputAutomatically results by element name
        self.fault_message = None
        # Formula values of the current step, forgotten whenever anything they read may change
        # (each element, each assignment, each data result): see `forget`.
        self.memo = {}
        self.guid = uuid.uuid4().hex
        for var in flow.variables.values():
            if var.value is not None:
                self.vars[var.name.lower()] = self.value(var.value)
            else:
                self.vars[var.name.lower()] = [] if var.is_collection else None
        for name, value in (inputs or {}).items():
            var = flow.variable(name)
            if var is None or not var.is_input:
                raise FlowFault(flow.name, "start",
                                f"Flow {flow.name}: {name} is not an input variable "
                                "(isInput=true) of this flow")
            self.vars[var.name.lower()] = value

    # ----- values -------------------------------------------------------------------------

    def fail(self, element, message):
        raise FlowFault(self.flow.name, element, f"Flow {self.flow.name}, element {element}: "
                        f"{message}")

    def unsupported(self, element, what):
        """Something Salesforce runs that this runtime does not: NOT_IMPLEMENTED, never a fault
        a flow's fault path could catch."""
        raise NotImplementedInLocalOrg(f"{what} (flow {self.flow.name}, element {element})")

    def value(self, node, element=""):
        """The value of a <value>/<rightValue> element (FlowElementReferenceOrValue)."""
        if node is None:
            return None
        if node.spec is None:
            node.spec = next(((el.tag.split("}")[-1], el.text) for el in node), ())
        for tag, raw in (node.spec,) if node.spec else ():
            if tag == "elementReference":
                return self.resolve(raw, element)
            if tag == "stringValue":
                return self.merge(raw or "", element) if raw else None
            if tag == "numberValue":
                return Decimal(raw)
            if tag == "booleanValue":
                return raw == "true"
            if tag == "dateValue":
                return date.fromisoformat(raw)
            if tag == "dateTimeValue":
                return parse_datetime(raw)
            self.unsupported(element, f"the value kind <{tag}>")
        return None

    def merge(self, template, element=""):
        """Replace {!ref} merge fields in text."""
        return _MERGE.sub(lambda m: formula.text(self.resolve(m.group(1), element)), template)

    def resolve(self, ref, element=""):
        """Value of a reference such as var, var.Field, $Record.Field, $Flow.FaultMessage."""
        head, low, rest = _split(ref)
        if not low.startswith("$"):  # a resource of the flow: the common case
            return self.field_path(self.base(head, element), rest, element)
        if low == "$globalconstant":
            consts = {"true": True, "false": False, "emptystring": ""}
            if len(rest) != 1 or rest[0].lower() not in consts:
                self.fail(element, f"unknown global constant {ref}")
            return consts[rest[0].lower()]
        if low == "$flow":
            key = rest[0].lower() if rest else ""
            if key == "faultmessage":
                return self.fault_message
            if key == "currentdatetime":
                return datetime.now(UTC)
            if key == "currentdate":
                return datetime.now(UTC).date()
            if key == "interviewguid":
                return self.guid
            self.unsupported(element, f"the global variable {ref}")
        if low == "$record":
            return self.field_path(self.record, rest, element)
        if low == "$record__prior":
            return None  # records are only created here: there is no prior version
        if low == "$user":
            user = self.rt.txn.retrieve("User", self.rt.txn.user_id)
            return self.field_path({**user, "attributes": {"type": "User"}}, rest, element)
        if low == "$organization":
            org = self.rt.txn.retrieve("Organization", self.rt.org.org_id)
            return self.field_path({**org, "attributes": {"type": "Organization"}}, rest,
                                   element)
        if low.startswith("$"):
            self.unsupported(element, f"the global variable {head}")
        return self.field_path(self.base(head, element), rest, element)

    def base(self, name, element):
        low = name.lower()
        if low in self.vars:
            return self.vars[low]
        fname = self.flow.resource(low, "formula")
        if fname is not None:
            if fname in self.memo:
                return self.memo[fname]
            dtype, run, scale = self.flow.formulas[fname]
            try:
                result = run(lambda r, f=fname: self.resolve(r, f))
            except formula.FormulaError as exc:
                self.fail(element, f"formula {fname}: {exc.message}")
            self.memo[fname] = self.cast(result, dtype, scale)
            return self.memo[fname]
        cname = self.flow.resource(low, "constant")
        if cname is not None:
            return self.value(self.flow.constants[cname], element)
        tname = self.flow.resource(low, "template")
        if tname is not None:
            return self.merge(self.flow.templates[tname], element)
        for ename in self.auto:
            if ename.lower() == low:
                return self.auto[ename]
        for ename, (items, index) in self.loops.items():
            if ename.lower() == low:
                return items[index - 1] if 0 < index <= len(items) else None
        self.fail(element, f"unknown resource {name!r}")

    def field_path(self, value, path, element):
        for part in path:
            if value is None:
                return None
            if not isinstance(value, dict):
                self.fail(element, f"can't read .{part} of a {type(value).__name__} value")
            if "attributes" not in value:  # subflow outputs stored automatically
                match = next((k for k in value if k.lower() == part.lower()), None)
                if match is None:
                    self.fail(element, f"no output {part!r}")
                value = value[match]
                continue
            sobject = value["attributes"]["type"]
            odef = self.rt.org.describe(sobject)
            if odef.has(part):
                fdef = odef.field(part)
                value = typed(value.get(fdef.name), fdef.type)
                continue
            rel = odef.relationship(part)
            if rel is None:
                self.fail(element, f"{sobject} has no field {part!r}")
            rid = value.get(rel.name)
            if rid is None:
                return None
            parent_type = self.rt.org.object_for_id(rid).name
            # A parent-field reference: read through without a SOQL charge (a divergence from
            # Salesforce, which counts a query for cross-object references).
            parent = self.rt.txn.retrieve(parent_type, rid)
            value = {**parent, "attributes": {"type": parent_type}} if parent else None
        return value

    def cast(self, value, dtype, scale=None):
        if value is None:
            return None
        if dtype in ("Number", "Currency"):
            value = formula.num(value)
            return formula._round(value, Decimal(int(scale))) if scale else value
        if dtype == "String":
            return formula.text(value)
        if dtype == "Boolean":
            return bool(value)
        if dtype == "Date":
            return formula._datevalue(value)
        if dtype == "DateTime":
            return formula._datetimevalue(value)
        return value

    def forget(self):
        """Drop the remembered formula values: a variable, loop, record or result changed."""
        self.memo.clear()

    def assign(self, ref, value, element):
        self.forget()
        parts = ref.strip().split(".")
        low = parts[0].lower()
        if low not in self.vars:
            self.fail(element, f"can't assign to {ref}: not a variable of this flow")
        if len(parts) == 1:
            self.vars[low] = value
            return
        target = self.vars[low]
        if len(parts) != 2:
            self.fail(element, f"can't assign to {ref}: only var.Field is supported")
        if target is None:
            var = self.flow.variable(low)
            if var.data_type != "SObject":
                self.fail(element, f"{parts[0]} is not a record variable")
            target = self.vars[low] = {"attributes": {"type": var.object_type}}
        odef = self.rt.org.describe(target["attributes"]["type"])
        target[odef.field(parts[1]).name] = value

    # ----- execution ----------------------------------------------------------------------

    def run(self):
        current = self.start
        while current:
            el = self.flow.elements[current]
            handler = getattr(self, f"do_{el.kind}", None)
            if handler is None:
                self.unsupported(el.name, f"{el.kind} elements ({el.name!r} can't run)")
            self.forget()
            try:
                current = yield from handler(el)
            except formula.FormulaError as exc:  # e.g. a Number formula that yields text
                self.fail(el.name, exc.message)
        outputs = {v.name: self.vars[v.name.lower()] for v in self.flow.variables.values()
                   if v.is_output}
        self.rt.log.append({"flow": self.flow.name, "outputs": outputs,
                            "inputs": {v.name: self.vars[v.name.lower()]
                                       for v in self.flow.variables.values() if v.is_input}})
        return outputs

    def do_assignments(self, el):
        for item in children(el.node, "assignmentItems"):
            ref = text(item, "assignToReference")
            op = text(item, "operator")
            value = self.value(child(item, "value"), el.name)
            self.apply(ref, op, value, el.name)
        return connector_target(el.node)
        yield  # noqa: B901 - makes this a generator like the data elements

    def apply(self, ref, op, value, element):
        self.forget()
        current = self.resolve(ref, element)
        if op == "Assign":
            new = value
        elif op == "AssignCount":
            new = Decimal(len(value or []))
        elif op in ("Add", "AddItem", "AddAtStart"):
            if isinstance(current, list) or (current is None and self.is_collection(ref)):
                items = list(value) if isinstance(value, list) else [value]
                new = current if current is not None else []
                if op == "AddAtStart":
                    new[:0] = items
                else:
                    new.extend(items)
            elif isinstance(current, str) or (current is None and isinstance(value, str)):
                new = (current or "") + formula.text(value)
            elif current is None and value is None:
                new = None
            else:
                new = formula._arith("+", current if current is not None else Decimal(0), value)
        elif op == "Subtract":
            if isinstance(current, list):
                self.fail(element, "Subtract works on numbers and dates; use RemoveAll")
            new = formula._arith("-", current if current is not None else Decimal(0), value)
        elif op in ("RemoveAll", "RemoveFirst", "RemoveUncommon", "RemoveAfterFirst",
                    "RemoveBeforeFirst", "RemovePosition"):
            items = list(current or [])
            values = value if isinstance(value, list) else [value]
            if op == "RemoveAll":
                new = [x for x in items if not any(flow_equal(x, v) for v in values)]
            elif op == "RemoveUncommon":
                new = [x for x in items if any(flow_equal(x, v) for v in values)]
            elif op == "RemovePosition":
                pos = int(value) - 1
                new = items[:pos] + items[pos + 1:] if 0 <= pos < len(items) else items
            else:
                idx = next((i for i, x in enumerate(items) if flow_equal(x, value)), None)
                if idx is None:
                    new = items
                elif op == "RemoveFirst":
                    new = items[:idx] + items[idx + 1:]
                elif op == "RemoveAfterFirst":
                    new = items[:idx + 1]
                else:
                    new = items[idx:]
            if isinstance(current, list):
                current[:] = new
                return
        else:
            self.unsupported(element, f"the assignment operator {op}")
        self.assign(ref, new, element)

    def is_collection(self, ref):
        var = self.flow.variable(ref)
        return bool(var and var.is_collection)

    def conditions_hold(self, node, conds_tag, logic, element):
        conds = children(node, conds_tag)
        truth = []
        for cond in conds:
            left = self.resolve(text(cond, "leftValueReference"), element)
            right = self.value(child(cond, "rightValue"), element)
            truth.append(compare(text(cond, "operator"), left, right, self.flow.name, element))
        if not conds:
            return True
        return holds(_logic(logic, len(conds)), truth.__getitem__)

    def do_decisions(self, el):
        for rule in children(el.node, "rules"):
            if self.conditions_hold(rule, "conditions", text(rule, "conditionLogic"), el.name):
                return connector_target(rule)
        return connector_target(el.node, "defaultConnector")
        yield  # noqa: B901

    def do_loops(self, el):
        if el.name not in self.loops:
            items = self.resolve(text(el.node, "collectionReference"), el.name) or []
            if not isinstance(items, list):
                self.fail(el.name, "the loop's collection is not a collection")
            items = list(items)
            if text(el.node, "iterationOrder") == "Desc":
                items.reverse()
            self.loops[el.name] = (items, 0)
        items, index = self.loops[el.name]
        if index >= len(items):
            del self.loops[el.name]
            return connector_target(el.node, "noMoreValuesConnector")
        self.loops[el.name] = (items, index + 1)
        target = text(el.node, "assignNextValueToReference")
        if target:
            self.assign(target, items[index], el.name)
        return connector_target(el.node, "nextValueConnector")
        yield  # noqa: B901

    def do_customErrors(self, el):  # noqa: N802 - named after the metadata element
        items = children(el.node, "customErrorMessages")
        messages = [self.merge(text(m, "errorMessage", ""), el.name) for m in items]
        fields = [text(m, "fieldSelection") for m in items
                  if text(m, "isFieldError") == "true" and text(m, "fieldSelection")]
        raise FlowCustomError(self.flow.name, el.name, " ".join(messages) or el.name, fields)
        yield  # noqa: B901

    def do_subflows(self, el):
        name = text(el.node, "flowName")
        sub = self.rt.load(name)
        inputs = {}
        for a in children(el.node, "inputAssignments"):
            value = self.value(child(a, "value"), el.name)
            var = sub.variable(text(a, "name"))
            if value is None and var is not None and not var.is_collection and (
                    var.data_type in NULL_TO_EMPTY):
                value = ""  # fidelity: Flow runtime / subflow text input null becomes ""
            inputs[text(a, "name")] = value
        call = self.path + ((self.flow.name, el.name),)
        interview = Interview(self.rt, sub, inputs, path=call)
        outputs = yield from interview.run()
        self.forget()
        if text(el.node, "storeOutputAutomatically") == "true":
            self.auto[el.name] = outputs
        for out in children(el.node, "outputAssignments"):
            src = text(out, "name")
            key = next((k for k in outputs if k.lower() == src.lower()), None)
            if key is None:
                self.fail(el.name, f"{src} is not an output variable (isOutput=true) of {name}")
            self.assign(text(out, "assignToReference"), outputs[key], el.name)
        return connector_target(el.node)
