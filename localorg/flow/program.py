"""A flow version compiled once into closures: what an interview (interpreter.py) runs.

`program_of(flow)` compiles a loaded flow the first time it runs. `model.load_cached` keeps one
`Flow` per name and XML, so a deploy or an activation (another XML runs) gets a new program.
Every element becomes a step function with its connectors resolved; every reference
(`var.Field`, `{!merge}` field, formula reference) an accessor `get(interview)` split once;
every value, condition, filter logic and assignment a closure. Running a flow reads no XML and
parses no reference.

Compiling never fails: anything the flow cannot run (an unknown resource, value kind, operator,
bad filter logic) becomes a closure that raises the same error when execution reaches it, as
walking the XML did. Schema lookups (a field's API name and type) stay at run time, remembered
per transaction (`Runtime.fields`), since a later transaction may see another schema.
"""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

from localorg.conditions import And, holds
from localorg.errors import SalesforceError
from localorg.flow import formula
from localorg.flow.compare import compare, flow_equal, parse_logic, typed
from localorg.flow.data import compile_data
from localorg.flow.faults import FlowCustomError, FlowFault
from localorg.flow.formula_compile import compile_formula
from localorg.flow.model import child, children, connector_target, text
from localorg.flow.operators import IN_PLACE, combiner
from localorg.values import parse_datetime

_MERGE = re.compile(r"\{!\s*([^}]+?)\s*\}")
_CONSTS = {"true": True, "false": False, "emptystring": ""}
# Subflow input types for which Salesforce turns a null value into "" in the referenced flow.
NULL_TO_EMPTY = {"String", "Picklist", "Multipicklist"}


def program_of(flow):
    """The compiled program of a loaded flow (compiled on first use, then kept on the flow)."""
    prog = flow.program
    if prog is None:
        prog = flow.program = Program(flow)
    return prog


class Step:
    """One element: `fn(interview)` returns the next element's name; a data element or subflow
    (`gen`) is a generator function yielding the interview's Requests."""

    __slots__ = ("name", "fn", "gen")

    def __init__(self, name, fn, gen=False):
        self.name, self.fn, self.gen = name, fn, gen


def constant(value):
    return lambda iv: value


def _deferred(convert, raw):
    """`convert(raw)` now, or, if it fails, a closure that fails the same way when it runs."""
    try:
        value = convert(raw)
    except Exception:  # noqa: BLE001 - the very error the walker raised, raised when it ran
        return lambda iv: convert(raw)
    return constant(value)


class Program:
    """Steps, variable set-up and accessors of one flow version."""

    def __init__(self, flow):
        self.flow = flow
        self.var_lows = {name.lower() for name in flow.variables}
        self._getters = {}
        self._values = {}
        self._runs = {}  # formula name -> compiled run(interview)
        self.inits = [(var.name.lower(), None if var.value is None else self.value(var.value, ""),
                       var.is_collection) for var in flow.variables.values()]
        self.outputs = [(v.name, v.name.lower()) for v in flow.variables.values() if v.is_output]
        self.inputs = [(v.name, v.name.lower()) for v in flow.variables.values() if v.is_input]
        self.steps = {name: self.step(el) for name, el in flow.elements.items()}
        self._entry = None

    # ----- references -------------------------------------------------------------------

    def getter(self, ref, element):
        """`get(interview)`: the value of a reference such as var, var.Field, $Record.Field."""
        key = (ref, element)
        get = self._getters.get(key)
        if get is None:
            get = self._getters[key] = self._reference(ref, element)
        return get

    def _reference(self, ref, element):
        if not isinstance(ref, str):
            return lambda iv: iv.fail(element, "a reference is missing")
        parts = ref.strip().split(".")
        head, low, rest = parts[0], parts[0].lower(), tuple(parts[1:])
        if not low.startswith("$"):  # a resource of the flow: the common case
            return _path(self._resource(head, low, element), rest, element)
        if low == "$globalconstant":
            if len(rest) != 1 or rest[0].lower() not in _CONSTS:
                return lambda iv: iv.fail(element, f"unknown global constant {ref}")
            return constant(_CONSTS[rest[0].lower()])
        if low == "$flow":
            key = rest[0].lower() if rest else ""
            found = {"faultmessage": lambda iv: iv.fault_message,
                     "currentdatetime": lambda iv: datetime.now(UTC),
                     "currentdate": lambda iv: datetime.now(UTC).date(),
                     "interviewguid": lambda iv: iv.guid}.get(key)
            return found or (lambda iv: iv.unsupported(element, f"the global variable {ref}"))
        if low == "$record":
            return _path(lambda iv: iv.record, rest, element)
        if low == "$record__prior":
            return constant(None)  # records are only created here: there is no prior version
        if low in ("$user", "$organization"):
            sobject = "User" if low == "$user" else "Organization"

            def current(iv):
                txn = iv.rt.txn
                row = txn.retrieve(sobject, txn.user_id if low == "$user" else iv.rt.org.org_id)
                return {**row, "attributes": {"type": sobject}}
            return _path(current, rest, element)
        return lambda iv: iv.unsupported(element, f"the global variable {head}")

    def _resource(self, head, low, element):
        """The accessor of a flow resource: variable, formula, constant, template, an element's
        stored output or a loop's current item, in that order of precedence."""
        other = self._non_variable(head, low, element)
        if low not in self.var_lows:
            return other

        def variable(iv):
            try:
                return iv.vars[low]
            except KeyError:  # while the interview sets its variables up
                return other(iv)
        return variable

    def _non_variable(self, head, low, element):
        flow = self.flow
        fname = flow.resource(low, "formula")
        if fname is not None:
            return self._formula(fname, element)
        cname = flow.resource(low, "constant")
        if cname is not None:
            return self.value(flow.constants[cname], element)
        tname = flow.resource(low, "template")
        if tname is not None:
            return self.merge(flow.templates[tname], element)

        def dynamic(iv):
            for ename, output in iv.auto.items():
                if ename.lower() == low:
                    return output
            for ename, (items, index) in iv.loops.items():
                if ename.lower() == low:
                    return items[index - 1] if 0 < index <= len(items) else None
            iv.fail(element, f"unknown resource {head!r}")
        return dynamic

    def _formula(self, fname, element):
        """A formula's value, remembered in the interview's memo until something changes."""
        runs = self._runs

        def value(iv):
            memo = iv.memo
            if fname in memo:
                return memo[fname]
            run, cast = runs.get(fname) or self._compile_formula(fname)
            try:
                result = run(iv)
            except formula.FormulaError as exc:
                iv.fail(element, f"formula {fname}: {exc.message}")
            memo[fname] = result = cast(result)
            return result
        return value

    def _compile_formula(self, fname):
        dtype, parsed, scale = self.flow.formulas[fname]
        compiled = self._runs[fname] = (self.formula_run(parsed, fname), caster(dtype, scale))
        return compiled

    def formula_run(self, parsed, element):
        """run(interview) of a formula given as text (an entry formula)."""
        return compile_formula(parsed, ref=lambda name: self.getter(name, element))

    # ----- values -----------------------------------------------------------------------

    def value(self, node, element):
        """`get(interview)` of a <value>/<rightValue> element (FlowElementReferenceOrValue)."""
        key = (node, element)
        get = self._values.get(key)
        if get is None:
            get = self._values[key] = self._value(node, element)
        return get

    def _value(self, node, element):
        if node is None:
            return constant(None)
        spec = next(((kid.tag, kid.text) for kid in node), None)
        if spec is None:
            return constant(None)
        tag, raw = spec
        if tag == "elementReference":
            return self.getter(raw, element)
        if tag == "stringValue":
            return self.merge(raw, element) if raw else constant(None)
        if tag == "numberValue":
            return _deferred(Decimal, raw)
        if tag == "booleanValue":
            return constant(raw == "true")
        if tag == "dateValue":
            return _deferred(date.fromisoformat, raw)
        if tag == "dateTimeValue":
            return _deferred(parse_datetime, raw)
        return lambda iv: iv.unsupported(element, f"the value kind <{tag}>")

    def merge(self, template, element):
        """`get(interview)`: text with its {!ref} merge fields replaced."""
        pieces, pos = [], 0
        for match in _MERGE.finditer(template):
            pieces.append((template[pos:match.start()], self.getter(match.group(1), element)))
            pos = match.end()
        if not pieces:
            return constant(template)
        tail, to_text = template[pos:], formula.text
        return lambda iv: "".join([lit + to_text(get(iv)) for lit, get in pieces]) + tail

    # ----- conditions -------------------------------------------------------------------

    def conditions(self, conds, logic, element):
        """`holds(interview)` of a decision rule or entry condition list: every condition is
        evaluated, in order, then the logic (and, or, or custom such as `1 AND (2 OR 3)`)."""
        items = [(self.getter(text(c, "leftValueReference"), element),
                  self.value(child(c, "rightValue"), element),
                  comparer(text(c, "operator"), self.flow.name, element)) for c in conds]
        if not items:
            return constant(True)
        return _combine(items, logic)

    # ----- steps ------------------------------------------------------------------------

    def step(self, el):
        make = getattr(self, f"_step_{el.kind}", None)
        if make is not None:
            return make(el)
        data = compile_data(self, el)
        if data is not None:
            return Step(el.name, data, gen=True)
        what = f"{el.kind} elements ({el.name!r} can't run)"
        return Step(el.name, lambda iv: iv.unsupported(el.name, what))

    def _step_assignments(self, el):
        items = [self.assignment(item, el.name) for item in children(el.node, "assignmentItems")]
        target = connector_target(el.node)

        def run(iv):
            for item in items:
                item(iv)
            return target
        return Step(el.name, run)

    def assignment(self, node, element):
        ref, op = text(node, "assignToReference"), text(node, "operator")
        value = self.value(child(node, "value"), element)
        current, store = self.getter(ref, element), self.setter(ref, element)
        is_collection = self.flow.variable(ref) if isinstance(ref, str) else None
        combine = combiner(op, bool(is_collection and is_collection.is_collection), element)

        def run(iv):
            new = value(iv)
            iv.memo.clear()
            new = combine(iv, current(iv), new)
            if new is not IN_PLACE:
                store(iv, new)
        return run

    def setter(self, ref, element):
        """`set(interview, value)` of an assignment target: var or var.Field."""
        def refuse(message):
            def fail(iv, value):
                iv.memo.clear()
                iv.fail(element, message)
            return fail
        if not isinstance(ref, str):
            return refuse("an assignment target is missing")
        parts = ref.strip().split(".")
        low = parts[0].lower()
        if low not in self.var_lows:
            return refuse(f"can't assign to {ref}: not a variable of this flow")
        if len(parts) == 1:
            def assign(iv, value):
                iv.memo.clear()
                iv.vars[low] = value
            return assign
        if len(parts) != 2:
            return refuse(f"can't assign to {ref}: only var.Field is supported")
        var, part = self.flow.variable(low), parts[1]

        def assign_field(iv, value):
            iv.memo.clear()
            target = iv.vars[low]
            if target is None:
                if var.data_type != "SObject":
                    iv.fail(element, f"{parts[0]} is not a record variable")
                target = iv.vars[low] = {"attributes": {"type": var.object_type}}
            target[iv.rt.field(target["attributes"]["type"], part).name] = value
        return assign_field

    def _step_decisions(self, el):
        rules = [(self.conditions(children(rule, "conditions"), text(rule, "conditionLogic"),
                                  el.name), connector_target(rule))
                 for rule in children(el.node, "rules")]
        default = connector_target(el.node, "defaultConnector")

        def run(iv):
            for holds_for, target in rules:
                if holds_for(iv):
                    return target
            return default
        return Step(el.name, run)

    def _step_loops(self, el):
        name, node = el.name, el.node
        collection = self.getter(text(node, "collectionReference"), name)
        descending = text(node, "iterationOrder") == "Desc"
        target = text(node, "assignNextValueToReference")
        store = self.setter(target, name) if target else None
        next_value = connector_target(node, "nextValueConnector")
        no_more = connector_target(node, "noMoreValuesConnector")

        def run(iv):
            loops = iv.loops
            if name not in loops:
                items = collection(iv) or []
                if not isinstance(items, list):
                    iv.fail(name, "the loop's collection is not a collection")
                items = list(items)
                if descending:
                    items.reverse()
                loops[name] = (items, 0)
            items, index = loops[name]
            if index >= len(items):
                del loops[name]
                return no_more
            loops[name] = (items, index + 1)
            if store is not None:
                store(iv, items[index])
            return next_value
        return Step(name, run)

    def _step_customErrors(self, el):  # noqa: N802 - named after the metadata element
        items = children(el.node, "customErrorMessages")
        messages = [self.merge(text(m, "errorMessage", ""), el.name) for m in items]
        fields = [text(m, "fieldSelection") for m in items
                  if text(m, "isFieldError") == "true" and text(m, "fieldSelection")]
        flow_name = self.flow.name

        def run(iv):
            message = " ".join(get(iv) for get in messages) or el.name
            raise FlowCustomError(flow_name, el.name, message, list(fields))
        return Step(el.name, run)

    def _step_subflows(self, el):
        node, name = el.node, el.name
        flow_name = text(node, "flowName")
        inputs = [(text(a, "name"), self.value(child(a, "value"), name))
                  for a in children(node, "inputAssignments")]
        store = text(node, "storeOutputAutomatically") == "true"
        outputs = [(text(o, "name"), self.setter(text(o, "assignToReference"), name))
                   for o in children(node, "outputAssignments")]
        target = connector_target(node)
        call = (self.flow.name, name)

        def run(iv):
            sub = iv.rt.load(flow_name)
            given = {}
            for key, value in inputs:
                value = value(iv)
                var = sub.variable(key)
                if value is None and var is not None and not var.is_collection and (
                        var.data_type in NULL_TO_EMPTY):
                    value = ""  # fidelity: Flow runtime / subflow text input null becomes ""
                given[key] = value
            interview = type(iv)(iv.rt, sub, given, path=iv.path + (call,))
            results = yield from interview.run()
            iv.memo.clear()
            if store:
                iv.auto[name] = results
            for src, assign in outputs:
                key = next((k for k in results if k.lower() == src.lower()), None)
                if key is None:
                    iv.fail(name, f"{src} is not an output variable (isOutput=true) of "
                            f"{flow_name}")
                assign(iv, results[key])
            return target
        return Step(name, run, gen=True)

    # ----- record-triggered entry -------------------------------------------------------

    def entry(self):
        """`holds(probe)` of the trigger's entry conditions or entry formula, where `probe` is
        an interview of the triggering record."""
        if self._entry is None:
            self._entry = self._compile_entry()
        return self._entry

    def _compile_entry(self):
        flow = self.flow
        source = flow.trigger["filterFormula"]
        if source:
            try:
                run = self.formula_run(formula.parse(source), "start")
            except formula.FormulaError as exc:
                return _entry_fault(flow.name, exc)

            def by_formula(probe):
                try:
                    return bool(run(probe))
                except formula.FormulaError as exc:
                    _entry_fault(flow.name, exc)(probe)
            return by_formula
        conds = children(flow.start_node, "filters")
        if not conds:
            return constant(True)
        items = [(text(c, "field"), self.value(child(c, "value"), "start"),
                  comparer(text(c, "operator"), flow.name, "start")) for c in conds]

        def left(field):
            def get(probe):
                fdef = probe.rt.org.describe(probe.record["attributes"]["type"]).field(field)
                return typed(probe.record.get(fdef.name), fdef.type)
            return get
        return _combine([(left(f), v, c) for f, v, c in items], flow.trigger["filterLogic"])


def _entry_fault(flow_name, exc):
    def fail(probe):
        raise FlowFault(flow_name, "start", f"entry formula: {exc.message}") from None
    return fail


def _path(base, rest, element):
    """`base`'s accessor followed through the parts after the head (var.Field.Field)."""
    if not rest:
        return base
    if len(rest) == 1:
        part = rest[0]
        return lambda iv: field_of(iv, base(iv), part, element)

    def walk(iv):
        value = base(iv)
        for part in rest:
            value = field_of(iv, value, part, element)
        return value
    return walk


def field_of(iv, value, part, element):
    """`value.part`: a record field (typed), a parent record, or a subflow's stored output."""
    if value is None:
        return None
    if not isinstance(value, dict):
        iv.fail(element, f"can't read .{part} of a {type(value).__name__} value")
    if "attributes" not in value:  # subflow outputs stored automatically
        match = next((k for k in value if k.lower() == part.lower()), None)
        if match is None:
            iv.fail(element, f"no output {part!r}")
        return value[match]
    sobject = value["attributes"]["type"]
    rt = iv.rt
    found = rt.fields.get((sobject, part))
    if found is None:
        found = rt.lookup(sobject, part)
        if found is None:
            iv.fail(element, f"{sobject} has no field {part!r}")
    fdef, is_field = found
    if is_field:
        return typed(value.get(fdef.name), fdef.type)
    rid = value.get(fdef.name)
    if rid is None:
        return None
    parent_type = rt.org.object_for_id(rid).name
    # A parent-field reference: read through without a SOQL charge (a divergence from
    # Salesforce, which counts a query for cross-object references).
    parent = rt.txn.retrieve(parent_type, rid)
    return {**parent, "attributes": {"type": parent_type}} if parent else None


def caster(dtype, scale):
    """A formula result as its data type (Number rounded to its scale)."""
    if dtype in ("Number", "Currency"):
        if not scale:
            return lambda v: None if v is None else formula.num(v)
        digits = _deferred(lambda s: Decimal(int(s)), scale)
        return lambda v: None if v is None else formula._round(formula.num(v), digits(None))
    if dtype == "String":
        return lambda v: None if v is None else formula.text(v)
    if dtype == "Boolean":
        return lambda v: None if v is None else bool(v)
    if dtype == "Date":
        return lambda v: None if v is None else formula._datevalue(v)
    if dtype == "DateTime":
        return lambda v: None if v is None else formula._datetimevalue(v)
    return lambda v: v


def comparer(op, flow_name, element):
    """`cmp(left, right)` of a condition operator, as `compare.compare`."""
    if op == "EqualTo":
        return flow_equal
    if op == "NotEqualTo":
        return lambda left, right: not flow_equal(left, right)
    return lambda left, right: compare(op, left, right, flow_name, element)


def _combine(items, logic):
    """Evaluate every (left, right, cmp) in order, then combine by the filter logic."""
    try:
        tree = parse_logic(logic, list(range(len(items))))
    except SalesforceError as exc:
        error = exc
        tree = None
    if tree is None:
        def broken(iv):
            for left, right, cmp in items:
                cmp(left(iv), right(iv))
            raise error
        return broken
    if isinstance(tree, And) and list(tree.conds) == list(range(len(items))):
        def all_hold(iv):
            truth = True
            for left, right, cmp in items:
                if not cmp(left(iv), right(iv)):
                    truth = False
            return truth
        return all_hold

    def by_logic(iv):
        truth = [cmp(left(iv), right(iv)) for left, right, cmp in items]
        return holds(tree, truth.__getitem__)
    return by_logic
