"""Generated Python for the hottest parts of a compiled flow version (program.py).

A formula's accessor is one generated function: the memo check, the formula as one Python
expression (variables read from the interview's dict, functions called directly) and the cast
to the formula's data type. Whatever that fast path cannot decide alone is decided by the
closure it replaces (`slow`, references.py), which raises exactly what it raised before:
a KeyError (a variable read while the interview sets its variables up), a TypeError or an
AttributeError (a function given a value of a type it does not take, which the closure names in
a FormulaError) makes the generated function evaluate again through `slow`. Formula functions
have no side effects, so evaluating again gives the same value or error (NOW and TODAY read the
clock again).

An Assignment or Decision element is one generated function too (`assignment_step`,
`decision_step`): its items or rules in order, variables read and written in the interview's
dict, a stable formula's remembered value dropped where its variable is assigned, as the
closures of program.py and references.py do; anything else (a var.Field target not yet a
record, an operator other than Assign, custom filter logic) through those closures.
"""

from decimal import ROUND_HALF_UP, Decimal

from localorg.conditions import And, Or
from localorg.errors import SalesforceError
from localorg.flow import formula
from localorg.flow.compare import TYPED, flow_equal, parse_logic
from localorg.flow.formula_compile import Source
from localorg.flow.model import child, children, connector_target, text
from localorg.flow.operators import IN_PLACE, combiner
from localorg.flow.references import IMMUTABLE, caster, comparer

MISS = object()
_CASTS = {  # data type -> statement making `v` that type, as references.caster does
    "String": "if v is not None and v.__class__ is not str:\n            v = TEXT(v)",
    "Boolean": "if v is not None and v.__class__ is not bool:\n            v = bool(v)",
}


def formula_maker(refs, fname):
    """`make(element, slow)`, the generated accessor of formula `fname` read at `element`, or
    None when the formula has no Python expression (then `slow` serves alone)."""
    dtype, parsed, scale = refs.flow.formulas[fname]
    source = Source(lambda name: refs.getter(name, fname),
                    inline=lambda name, bind: refs.inline(name, bind, fname), direct=True)
    try:
        expr = source.expr(parsed)
    except (RecursionError, MemoryError):
        return None
    names = source.names
    names.update(MISS=MISS, FormulaError=formula.FormulaError, TEXT=formula.text,
                 NUM=formula.num, Decimal=Decimal, KEY=fname)
    if dtype in _CASTS:
        cast = _CASTS[dtype]
    elif dtype in ("Number", "Currency") and not scale:
        cast = "if v is not None and v.__class__ is not Decimal:\n            v = NUM(v)"
    elif dtype in ("Number", "Currency") and _quantum(scale) is not None:
        names.update(Q=_quantum(scale), HALF_UP=ROUND_HALF_UP)  # as formula._round does
        cast = "if v is not None:\n            v = NUM(v).quantize(Q, rounding=HALF_UP)"
    else:
        names["CAST"] = caster(dtype, scale)
        cast = "v = CAST(v)"
    memo = "stable" if refs.stable(fname) else "memo"
    code = f"""
def make(EL, SLOW):
    def value(r):
        memo = r.{memo}
        v = memo.get(KEY, MISS)
        if v is not MISS:
            return v
        V = r.vars
        try:
            v = {expr}
        except FormulaError as exc:
            r.fail(EL, f"formula {{KEY}}: {{exc.message}}")
        except (KeyError, TypeError, AttributeError):
            return SLOW(r)
        {cast}
        memo[KEY] = v
        return v
    return value
"""
    try:
        exec(compile(code, "<formula>", "exec"), names)  # noqa: S102 - bound names only
    except (SyntaxError, RecursionError, MemoryError):  # nested deeper than Python parses
        return None
    return names["make"]


def _quantum(scale):
    """The exponent formula._round quantizes a Number of `scale` digits to, or None when the
    scale is not a number (then the caster raises the error)."""
    try:
        return Decimal(1).scaleb(-int(formula.num(Decimal(int(scale)))))
    except Exception:  # noqa: BLE001 - the caster raises it when a value is cast
        return None


class _Step:
    """The Python source of one element's step function `run(r)`, `r` the interview, `V` its
    variables, `M` its memo of the current step; `names` binds what the source uses."""

    def __init__(self, prog, element):
        self.prog, self.element = prog, element
        self.names = {"IN_PLACE": IN_PLACE, "IMMUTABLE": IMMUTABLE, "FE": flow_equal,
                      "TYPED": TYPED}
        self.lines = []

    def bind(self, value):
        name = f"b{len(self.names)}"
        self.names[name] = value
        return name

    def read(self, ref):
        """A reference's value (as `prog.getter(ref)` gives it)."""
        return self.prog.inline(ref, self.bind, self.element) or (
            f"{self.bind(self.prog.getter(ref, self.element))}(r)")

    def value(self, node):
        """A <value> element's value (as `prog.value(node)` gives it); a literal read once."""
        spec = next(((kid.tag, kid.text) for kid in node), None) if node is not None else None
        if spec is not None and spec[0] == "elementReference":
            return self.read(spec[1])
        get = self.prog.value(node, self.element)
        if self.prog.literal(node):
            try:
                return self.bind(get(None))
            except Exception:  # noqa: BLE001 - raised again, when the step runs
                pass
        return f"{self.bind(get)}(r)"

    def store(self, ref, indent):
        """Lines setting `ref` to `new` (as `prog.setter(ref)` does)."""
        pad = " " * indent
        parts = ref.strip().split(".") if isinstance(ref, str) else [None]
        low = parts[0].lower() if parts[0] else None
        setter = self.prog.setter(ref, self.element)
        if low not in self.prog.var_lows or len(parts) > 2:
            return [f"{pad}{self.bind(setter)}(r, new)"]
        if len(parts) == 2:  # var.Field of a record already there, else the setter
            return [f"{pad}M.clear()", f"{pad}target = V[{low!r}]",
                    f"{pad}if target.__class__ is dict:",
                    f"{pad}    target[r.rt.field(target['attributes']['type'], "
                    f"{self.bind(parts[1])}).name] = new",
                    f"{pad}else:", f"{pad}    {self.bind(setter)}(r, new)"]
        lines = [f"{pad}M.clear()", f"{pad}V[{low!r}] = new"]
        readers = self.prog.dependents.get(low)
        if readers:
            lines.append(f"{pad}S = r.stable")
            lines += [f"{pad}S.pop({fname!r}, None)" for fname in readers]
            lines += [f"{pad}if new.__class__ not in IMMUTABLE:", f"{pad}    r.stable = M"]
        return lines

    def field_known(self, ref):
        """For an Assign to `var.Field`: lines writing `new` straight into the record when
        reading the field first (field_of) would neither fail nor convert anything and the
        setter would write that very field; the indent of the general lines, which follow as
        the else branch (0 when `ref` is not a var.Field of this flow: no fast path)."""
        parts = ref.strip().split(".") if isinstance(ref, str) else []
        if len(parts) != 2 or parts[0].lower() not in self.prog.var_lows:
            return 0
        low, part = parts[0].lower(), self.bind(parts[1])
        self.lines += [
            f"T = V[{low!r}]",
            "F = T.__class__ is dict and 'attributes' in T and "
            f"r.rt.fields.get((T['attributes']['type'], {part}))",
            "if F and F[1] and ((G := T.get(F[0].name)) is None or "
            "G.__class__ is str and F[0].type not in TYPED):",
            "    T[F[0].name] = new",
            "else:"]
        return 4

    def function(self):
        source = "def run(r):\n    V = r.vars\n    M = r.memo\n" + "\n".join(
            f"    {line}" for line in self.lines) + "\n"
        exec(compile(source, f"<element {self.element}>", "exec"), self.names)  # noqa: S102
        return self.names["run"]


def assignment_step(prog, el):
    """`run(interview)` of an Assignment element: its items in order, as Program.assignment."""
    code = _Step(prog, el.name)
    for item in children(el.node, "assignmentItems"):
        ref, op = text(item, "assignToReference"), text(item, "operator")
        code.lines.append(f"new = {code.value(child(item, 'value'))}")
        plain = isinstance(ref, str) and ref.strip().lower() in prog.var_lows
        if op == "Assign" and plain:
            code.lines += code.store(ref, 0)  # which clears the memo first
            continue
        code.lines.append("M.clear()")
        var = prog.flow.variable(ref) if isinstance(ref, str) else None
        combine = combiner(op, bool(var and var.is_collection), el.name)
        pad = 0
        if op == "Assign":
            pad = code.field_known(ref)
        code.lines.append(f"{' ' * pad}new = {code.bind(combine)}(r, {code.read(ref)}, new)")
        code.lines.append(f"{' ' * pad}if new is not IN_PLACE:")
        code.lines += code.store(ref, pad + 4)
    code.lines.append(f"return {code.bind(connector_target(el.node))}")
    return code.function()


def decision_step(prog, el):
    """`run(interview)` of a Decision element: each rule's conditions all evaluated in order,
    then its logic, until a rule holds (as Program's closures)."""
    code = _Step(prog, el.name)
    for rule in children(el.node, "rules"):
        conds, logic = children(rule, "conditions"), text(rule, "conditionLogic")
        target = code.bind(connector_target(rule))
        tree = _plain_logic(logic, len(conds))
        if tree is None:
            holds = prog.conditions(conds, logic, el.name)
            code.lines += [f"if {code.bind(holds)}(r):", f"    return {target}"]
            continue
        truths = []
        for i, cond in enumerate(conds):
            left = code.read(text(cond, "leftValueReference"))
            right = code.value(child(cond, "rightValue"))
            op = text(cond, "operator")
            if op == "EqualTo":
                test = f"FE({left}, {right})"
            elif op == "NotEqualTo":
                test = f"not FE({left}, {right})"
            else:
                test = f"{code.bind(comparer(op, prog.flow.name, el.name))}({left}, {right})"
            code.lines.append(f"c{i} = {test}")
            truths.append(f"c{i}")
        joined = f" {tree} ".join(truths) or "True"
        code.lines += [f"if {joined}:", f"    return {target}"]
    code.lines.append(f"return {code.bind(connector_target(el.node, 'defaultConnector'))}")
    return code.function()


def _plain_logic(logic, count):
    """"and" or "or" when a rule's logic combines all its conditions that way, else None."""
    try:
        tree = parse_logic(logic, list(range(count)))
    except SalesforceError:
        return None
    if type(tree) not in (And, Or) or list(tree.conds) != list(range(count)):
        return None
    return "and" if type(tree) is And else "or"
