"""A flow version compiled once into closures: what an interview (interpreter.py) runs.

`program_of(flow)` compiles a loaded flow the first time it runs. `model.load_cached` keeps one
`Flow` per name and XML (for every org of the process), so a deploy or an activation (another
XML runs) gets a new program. Every element becomes a step function with its connectors
resolved; every reference (`var.Field`, `{!merge}` field, formula reference) an accessor
`get(interview)` split once; every value, condition, filter logic and assignment a closure.
Formula accessors, assignments and decisions are then generated as Python (fused.py), with
these closures serving what the generated code does not. Running a flow reads no XML and
parses no reference.

Compiling never fails: anything the flow cannot run (an unknown resource, value kind, operator,
bad filter logic) becomes a closure that raises the same error when execution reaches it, as
walking the XML did. Schema lookups (a field's API name and type) stay at run time, remembered
per transaction (`Runtime.fields`), since a later transaction may see another schema.
"""

from localorg.flow import formula
from localorg.flow.compare import typed
from localorg.flow.data import compile_data
from localorg.flow.faults import FlowCustomError, FlowFault
from localorg.flow.fused import assignment_step, decision_step, formula_maker
from localorg.flow.model import child, children, connector_target, text
from localorg.flow.operators import IN_PLACE, combiner
from localorg.flow.references import References, check, combine_conditions, comparer, constant

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


class Program(References):
    """Steps, variable set-up and accessors of one flow version."""

    # Formula accessors, assignments and decisions as generated Python (fused.py); the
    # closures below otherwise (what the generated code is tested against).
    GENERATED = True

    def __init__(self, flow):
        self._makers = {}  # formula name -> make(element, slow) of its generated accessor
        super().__init__(flow)
        self.inits = [(var.name.lower(), None if var.value is None else self.value(var.value, ""),
                       var.is_collection) for var in flow.variables.values()]
        self.template, self.lists = self._template()
        self.outputs = [(v.name, v.name.lower()) for v in flow.variables.values() if v.is_output]
        self.output_keys = {}  # lower-cased output name -> the name (the first, as declared)
        for name, low in self.outputs:
            self.output_keys.setdefault(low, name)
        self.inputs = [(v.name, v.name.lower()) for v in flow.variables.values() if v.is_input]
        self.steps = {name: self.step(el) for name, el in flow.elements.items()}
        self.plain = {name: step.fn for name, step in self.steps.items() if not step.gen}
        self._entry = None

    def _template(self):
        """(the variables' first values, the collections that start as a new empty list) when
        no default value reads anything (so they need not be set up one by one), else
        (None, None)."""
        values, new_list = {}, object()
        for var, (low, initial, is_collection) in zip(self.flow.variables.values(), self.inits,
                                                      strict=True):
            if initial is None:
                values[low] = new_list if is_collection else None
            elif not self.literal(var.value):
                return None, None
            else:
                try:
                    values[low] = initial(None)
                except Exception:  # noqa: BLE001 - raised again, one by one, by each interview
                    return None, None
        lists = [low for low, value in values.items() if value is new_list]
        return {low: None if low in lists else v for low, v in values.items()}, lists

    def fused_formula(self, fname, element, value):
        """The formula's generated accessor (fused.py), `value` serving what it cannot. A formula
        read while its own accessor is being generated (a cycle) keeps `value`."""
        makers = self._makers
        if not self.GENERATED:
            return value
        if fname not in makers:
            makers[fname] = None  # while generating
            makers[fname] = formula_maker(self, fname) or (lambda element, slow: slow)
        make = makers[fname]
        return value if make is None else make(element, value)

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
        if self.GENERATED:
            return Step(el.name, assignment_step(self, el))
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
        if op == "Assign" and isinstance(ref, str) and ref.strip().lower() in self.var_lows:
            # Reading a variable neither fails nor changes anything: no need to read it first.
            def assign(iv):
                new = value(iv)
                iv.memo.clear()
                store(iv, new)
            return assign

        def run(iv):
            new = value(iv)
            iv.memo.clear()
            new = combine(iv, current(iv), new)
            if new is not IN_PLACE:
                store(iv, new)
        return run

    def _step_decisions(self, el):
        if self.GENERATED:
            return Step(el.name, decision_step(self, el))
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
                key = interview.program.output_keys.get(src.lower())
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
        return combine_conditions([check(left(f), v, c) for f, v, c in items],
                                  flow.trigger["filterLogic"])


def _entry_fault(flow_name, exc):
    def fail(probe):
        raise FlowFault(flow_name, "start", f"entry formula: {exc.message}") from None
    return fail


