"""References, values and conditions of a flow version, compiled into accessors.

`References(flow)` is the half of a compiled program (program.py) that reads: every reference
(`var`, `var.Field`, `$Record.Field`, a `{!merge}` field, a formula's reference) becomes
`get(interview)`, split once; every <value>, merge text and condition list a closure; every
assignment target `set(interview, value)`. Whatever cannot be read raises, when it runs, the
error walking the XML raised.

Formula values are remembered per interview. Most are forgotten at every element, assignment,
data result and subflow return (`interview.memo`). A *stable* formula, one that reads only
variables of a text, number, boolean or date type (directly or through other stable formulas)
and no record, collection, global variable, NOW() or TODAY(), is a function of those variables
alone: its value is kept in `interview.stable` until one of them is assigned. An interview in
which such a variable holds anything but an immutable value (a record or list assigned to a
text variable) forgets stable values as often as the others (`interview.stable` is its memo).
"""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from localorg.conditions import And, holds
from localorg.errors import SalesforceError
from localorg.flow import formula
from localorg.flow.compare import TYPED, compare, flow_equal, parse_logic, typed
from localorg.flow.formula_compile import compile_formula
from localorg.flow.model import child, text
from localorg.values import parse_datetime

_MERGE = re.compile(r"\{!\s*([^}]+?)\s*\}")
_CONSTS = {"true": True, "false": False, "emptystring": ""}
SCALARS = {"String", "Number", "Currency", "Boolean", "Date", "DateTime", "Picklist",
           "Multipicklist"}
# Values no alias can change: a stable formula's inputs must be of these classes.
IMMUTABLE = frozenset({str, Decimal, bool, int, float, date, datetime, type(None)})
VOLATILE_FUNCTIONS = {"NOW", "TODAY"}


def constant(value):
    return lambda iv: value


def _deferred(convert, raw):
    """`convert(raw)` now, or, if it fails, a closure that fails the same way when it runs."""
    try:
        value = convert(raw)
    except Exception:  # noqa: BLE001 - the very error the walker raised, raised when it ran
        return lambda iv: convert(raw)
    return constant(value)


class References:
    """Accessors of one flow version's resources (the reading half of a Program)."""

    def __init__(self, flow):
        self.flow = flow
        self.var_lows = {name.lower() for name in flow.variables}
        self._getters = {}
        self._values = {}
        self._runs = {}  # formula name -> (compiled run(interview), cast)
        self._stable = {}  # formula name -> True when stable (see the module docstring)
        self.dependents = {}  # variable (lower-cased) -> stable formulas that read it
        for fname in flow.formulas:
            if self.stable(fname):
                for low in self._reads(fname):
                    self.dependents.setdefault(low, []).append(fname)

    def getter(self, ref, element):
        """`get(interview)`: the value of a reference such as var, var.Field, $Record.Field."""
        return _cached(self._getters, self._reference, ref, element)

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
                     "currentdate": lambda iv: _user_today(iv, element),
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
        return self.fused_formula(fname, element, self._formula_closure(fname, element))

    def fused_formula(self, fname, element, value):
        """The accessor of formula `fname` read at `element`: here `value`, the closure below;
        a Program generates one Python function instead (fused.py)."""
        return value

    def _formula_closure(self, fname, element):
        runs, stable = self._runs, self.stable(fname)

        def value(iv):
            memo = iv.stable if stable else iv.memo
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

    def inline(self, ref, bind, element):
        """A reference to a variable of this flow (`var`, `var.Field`) as a Python expression
        reading `V` (the interview's variables) and `r` (the interview), else None."""
        if not isinstance(ref, str):
            return None
        parts = ref.strip().split(".")
        low = parts[0].lower()
        if low not in self.var_lows or len(parts) > 2:
            return None
        if len(parts) == 1:
            return f"V[{low!r}]"
        return f"{bind(field_of)}(r, V[{low!r}], {bind(parts[1])}, {bind(element)})"

    def formula_run(self, parsed, element):
        """run(interview) of a formula given as text (an entry formula)."""
        return compile_formula(parsed, ref=lambda name: self.getter(name, element))

    # ----- values -----------------------------------------------------------------------

    def value(self, node, element):
        """`get(interview)` of a <value>/<rightValue> element (FlowElementReferenceOrValue)."""
        return _cached(self._values, self._value, node, element)

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

    @staticmethod
    def literal(node):
        """Whether a <value> element's value reads nothing: a literal or a global constant."""
        spec = next(((kid.tag, kid.text) for kid in node), None) if node is not None else None
        if spec is None or spec[0] in ("numberValue", "booleanValue", "dateValue",
                                       "dateTimeValue"):
            return True
        tag, raw = spec
        if tag == "stringValue":
            return not raw or not _MERGE.search(raw)
        return tag == "elementReference" and isinstance(raw, str) and (
            raw.strip().lower().startswith("$globalconstant."))

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
        checks = [check(self.getter(text(c, "leftValueReference"), element),
                        self.value(child(c, "rightValue"), element),
                        comparer(text(c, "operator"), self.flow.name, element),
                        self.literal(child(c, "rightValue"))) for c in conds]
        if not checks:
            return constant(True)
        return combine_conditions(checks, logic)

    # ----- assignment targets ---------------------------------------------------------

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
            readers = self.dependents.get(low)
            if readers:
                return _assign_read(low, readers)

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

    # ----- stable formulas --------------------------------------------------------------

    def stable(self, fname, visiting=()):
        """Whether formula `fname` is stable (module docstring); a cycle is not."""
        if fname not in self._stable:
            if fname in visiting:
                return False
            dtype, parsed, scale = self.flow.formulas[fname]
            self._stable[fname] = VOLATILE_FUNCTIONS.isdisjoint(formula.called(parsed)) and all(
                self._stable_ref(ref, visiting + (fname,)) for ref in formula.references(parsed))
        return self._stable[fname]

    def _stable_ref(self, ref, visiting):
        parts = ref.strip().split(".")
        low = parts[0].lower()
        if low == "$globalconstant":
            return True
        if len(parts) > 1 or low.startswith("$"):
            return False
        if low in self.var_lows:
            var = self.flow.variable(low)
            return not var.is_collection and var.data_type in SCALARS
        fname = self.flow.resource(low, "formula")
        return fname is not None and self.stable(fname, visiting)

    def _reads(self, fname, seen=None):
        """The variables (lower-cased) a stable formula reads, through other formulas too."""
        seen = set() if seen is None else seen
        lows = set()
        if fname in seen:
            return lows
        seen.add(fname)
        for ref in formula.references(self.flow.formulas[fname][1]):
            low = ref.strip().split(".")[0].lower()
            if low in self.var_lows:
                lows.add(low)
            elif self.flow.resource(low, "formula") is not None:
                lows |= self._reads(self.flow.resource(low, "formula"), seen)
        return lows


def _cached(cache, make, what, element):
    """`make(what, element)`, made once per (what, element) and kept in `cache`."""
    key = (what, element)
    get = cache.get(key)
    if get is None:
        get = cache[key] = make(what, element)
    return get


def _assign_read(low, readers):
    """`set(interview, value)` of a variable stable formulas read: their values go too."""
    def assign(iv, value):
        iv.memo.clear()
        iv.vars[low] = value
        stable = iv.stable
        for fname in readers:
            stable.pop(fname, None)
        if value.__class__ not in IMMUTABLE:
            iv.stable = iv.memo  # an alias could change it: remember nothing across steps
    return assign


def _user_today(iv, element):
    """$Flow.CurrentDate: today in the running user's time zone (TimeZoneSidKey), not UTC
    (docs/fidelity.md, "Flow runtime")."""
    txn = iv.rt.txn
    zone = txn.retrieve("User", txn.user_id).get("TimeZoneSidKey") or "GMT"
    known = txn.org.describe("User").field("TimeZoneSidKey").picklist_values
    if known and zone not in known:  # stored before the User describe restricted the field
        iv.fail(element, f"$Flow.CurrentDate: the running user's time zone (TimeZoneSidKey) "
                         f"{zone!r} is not a Salesforce time zone; set the User's "
                         "TimeZoneSidKey to one of the values of the User describe")
    try:
        return datetime.now(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        iv.unsupported(element, f"$Flow.CurrentDate in the time zone {zone!r} (not in this "
                                "machine's time zone database)")


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
    if value.__class__ is dict and "attributes" in value:  # a record's own field, known
        found = iv.rt.fields.get((value["attributes"]["type"], part))
        if found is not None and found[1]:
            fdef = found[0]
            got = value.get(fdef.name)
            if got is None or (got.__class__ is str and fdef.type not in TYPED):
                return got  # what typed() returns
            return typed(got, fdef.type)
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
    # A parent record through a lookup ({!var.Account.Name}): Salesforce reads it with a query
    # whose governor charge no source here states, so the runtime does not fake it.
    iv.unsupported(element, f"the cross-object reference {sobject}.{part}")


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


def check(left, right, cmp, literal=False):
    """`holds(interview)` of one condition; a literal right value is read once, here."""
    if literal:
        try:
            value = right(None)
        except Exception:  # noqa: BLE001 - raised again, when the condition runs
            literal = False
    if literal:
        return lambda iv: cmp(left(iv), value)
    return lambda iv: cmp(left(iv), right(iv))


def combine_conditions(checks, logic):
    """Evaluate every condition in order, then combine them by the filter logic."""
    try:
        tree = parse_logic(logic, list(range(len(checks))))
    except SalesforceError as exc:
        error = exc
        tree = None
    if tree is None:
        def broken(iv):
            for holds_for in checks:
                holds_for(iv)
            raise error
        return broken
    if isinstance(tree, And) and list(tree.conds) == list(range(len(checks))):
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:
            first, second = checks

            def both(iv):
                a = first(iv)
                return second(iv) and a
            return both

        def all_hold(iv):
            truth = True
            for holds_for in checks:
                if not holds_for(iv):
                    truth = False
            return truth
        return all_hold

    def by_logic(iv):
        truth = [holds_for(iv) for holds_for in checks]
        return holds(tree, truth.__getitem__)
    return by_logic
