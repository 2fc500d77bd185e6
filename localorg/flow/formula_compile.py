"""Parsed formulas (`formula.parse`) turned into Python functions, once per flow version.

`compile_formula(parsed)` returns `run(resolve)`, which gives the value `formula.evaluate(parsed,
resolve)` gives, with the same errors raised at the same moment, without walking the parse tree
at every evaluation (a flow's tokenizer formulas run hundreds of thousands of times per batch).
With `ref`, each merge field `{!name}` is compiled once into `ref(name)`, an accessor called with
whatever `run` is given (the flow runtime gives the interview), instead of `resolve(name)`.

`run` is one generated Python function: the formula as one Python expression (IF as `x if c
else y`, AND as `and`, a `&` chain as `+` of texts, each function call through a wrapper that
turns a value of a wrong type into FormulaError), so an evaluation makes one call per function
instead of one per node. Whatever has no such expression (CASE, a call with a number of
arguments its signature does not allow) is a closure the expression calls; a formula Python
can't compile (nested too deep) is closures throughout.
"""

from localorg.flow.formula import (
    FUNCTIONS,
    TODAY_REFERENCE,
    FormulaError,
    _arith,
    compare_equal,
    compare_order,
    is_blank,
    missing_function,
    num,
    text,
    wrong_type,
)
from localorg.flow.formula_signatures import arity_problem


def _by_name(name):
    return lambda resolve: resolve(name)


def compile_formula(node, ref=_by_name):
    """A function run(resolve) evaluating the parsed formula `node`; with `ref`, run(context)
    where `ref(name)(context)` is a merge field's value."""
    source = Source(ref)
    try:
        code = compile(f"def run(r):\n    return {source.expr(node)}\n", "<formula>", "exec")
    except (SyntaxError, RecursionError, MemoryError):  # nested deeper than Python parses
        return _closure(node, ref)
    exec(code, source.names)  # noqa: S102 - names and operators only; values are bound names
    return source.names["run"]


def _closure(node, ref=_by_name):
    """compile_formula as nested closures, one per node."""
    kind = node[0]
    if kind == "lit":
        value = node[1]
        return lambda resolve: value
    if kind == "ref":
        return ref(node[1])
    if kind == "pos":
        return _closure(node[1], ref)
    if kind in ("neg", "not"):
        inner = _closure(node[1], ref)
        if kind == "neg":
            return lambda resolve: _neg(inner(resolve))
        return lambda resolve: _not(inner(resolve))
    if kind == "op" and node[1] == "&":
        return _concat([piece if isinstance(piece, str) else _closure(piece, ref)
                        for piece in _texts(node)])
    if kind == "op":
        return _operator(node[1], _closure(node[2], ref), _closure(node[3], ref))
    if node[1] == "TODAY" and not node[2]:
        return ref(TODAY_REFERENCE)
    return _call(node[1], [_closure(a, ref) for a in node[2]])


def _texts(node):
    """The operands of a chain `a & b & c` in order, a literal one as its text (joined with a
    literal next to it): the chain is one join, as text(x) of a text x is x itself."""
    if node[0] == "op" and node[1] == "&":
        pieces = _texts(node[2]) + _texts(node[3])
    else:
        pieces = [text(node[1]) if node[0] == "lit" else node]
    out = []
    for piece in pieces:
        if out and isinstance(piece, str) and isinstance(out[-1], str):
            out[-1] += piece
        else:
            out.append(piece)
    return out


def _concat(pieces):
    """run(r) of a `&` chain: compiled operands and literal texts, joined."""
    shape = tuple(isinstance(p, str) for p in pieces)
    if shape == (True,):
        value = pieces[0]
        return lambda r: value
    if shape == (True, False, True):
        head, middle, tail = pieces
        return lambda r: head + text(middle(r)) + tail
    if shape == (False, True, False):
        first, middle, last = pieces
        return lambda r: text(first(r)) + middle + text(last(r))
    if shape == (False, False):
        first, last = pieces
        return lambda r: text(first(r)) + text(last(r))
    return lambda r: "".join([p if p.__class__ is str else text(p(r)) for p in pieces])


def _neg(v):
    return None if v is None else -num(v)


def _not(v):
    return None if v is None else not v


def _operator(op, a, b):
    if op == "&&":
        return lambda r: bool(a(r)) and bool(b(r))
    if op == "||":
        return lambda r: bool(a(r)) or bool(b(r))
    if op == "&":
        return lambda r: text(a(r)) + text(b(r))
    if op in ("=", "==", "!=", "<>"):
        equal = op in ("=", "==")
        return lambda r: compare_equal(a(r), b(r), equal)
    if op in ("<", ">", "<=", ">="):
        return lambda r: compare_order(op, a(r), b(r))
    return lambda r: _arith(op, a(r), b(r))


def _call(name, args):
    if name not in FUNCTIONS:  # Salesforce's "Unknown function", or NOT_IMPLEMENTED
        return _raise(missing_function, name)
    if arity_problem(name, len(args)):  # a formula parsed with check_arity=False
        return _fail(arity_problem(name, len(args)))
    if name == "IF":
        test, then, other = args
        return lambda r: then(r) if test(r) else other(r)
    if name in ("AND", "OR"):
        return _logical(name == "AND", args)
    if name in ("BLANKVALUE", "NULLVALUE"):
        blank = is_blank if name == "BLANKVALUE" else (lambda v: v is None)

        def fallback(r):
            v = args[0](r)
            return args[1](r) if blank(v) else v
        return fallback
    if name == "CASE":
        return _case(args)
    checked = _checked(name, FUNCTIONS[name], len(args))
    if len(args) == 1:
        (first,) = args
        return lambda r: checked(first(r))
    if len(args) == 2:
        first, second = args
        return lambda r: checked(first(r), second(r))
    return lambda r: checked(*[a(r) for a in args])


def _logical(conjunction, args):
    """AND(...) or OR(...): each argument as a boolean, evaluated until one decides."""
    if len(args) == 2:
        first, second = args
        if conjunction:
            return lambda r: bool(first(r)) and bool(second(r))
        return lambda r: bool(first(r)) or bool(second(r))
    if len(args) == 3:
        first, second, third = args
        if conjunction:
            return lambda r: bool(first(r)) and bool(second(r)) and bool(third(r))
        return lambda r: bool(first(r)) or bool(second(r)) or bool(third(r))
    if conjunction:
        return lambda r: all(bool(a(r)) for a in args)
    return lambda r: any(bool(a(r)) for a in args)


def _case(args):
    subject, pairs = args[0], args[1:]

    def case(r):
        value = subject(r)
        for i in range(0, len(pairs) - 1, 2):
            if compare_equal(value, pairs[i](r), True):
                return pairs[i + 1](r)
        return pairs[-1](r)
    return case


def _fail(message):
    return _raise(FormulaError, message)


def _raise(error, argument):
    """A closure raising a new `error(argument)` each time it is called."""
    def fail(resolve):
        raise error(argument)
    return fail


_COMPARE = {"=": True, "==": True, "!=": False, "<>": False}


class Source:
    """The Python expression of a parsed formula; `names` binds what the expression uses.

    `inline(name, bind)` may give a merge field's value as an expression instead of a call of
    its accessor. With `direct`, functions are called as they are, not through a wrapper naming
    them in a FormulaError: the caller catches their TypeError or AttributeError and evaluates
    again through the wrappers."""

    def __init__(self, ref, inline=None, direct=False):
        self.ref, self.inline, self.direct = ref, inline, direct
        self.names = {"T": text, "CE": compare_equal, "CO": compare_order, "AR": _arith,
                      "NEG": _neg, "NOT": _not, "BLANK": is_blank}

    def bind(self, value):
        name = f"v{len(self.names)}"
        self.names[name] = value
        return name

    def expr(self, node):
        kind = node[0]
        if kind == "lit":
            return self.bind(node[1])
        if kind == "ref":
            code = self.inline(node[1], self.bind) if self.inline else None
            return code or f"{self.bind(self.ref(node[1]))}(r)"
        if kind == "pos":
            return self.expr(node[1])
        if kind in ("neg", "not"):
            return f"{'NEG' if kind == 'neg' else 'NOT'}({self.expr(node[1])})"
        if kind == "op":
            return self.operator(node)
        return self.call(node[1], node[2]) or f"{self.bind(_closure(node, self.ref))}(r)"

    def operator(self, node):
        op = node[1]
        if op == "&":
            pieces = [self.bind(p) if isinstance(p, str) else f"T({self.expr(p)})"
                      for p in _texts(node)]
            return f"({' + '.join(pieces)})"
        a, b = self.expr(node[2]), self.expr(node[3])
        if op in ("&&", "||"):
            return f"(bool({a}) {'and' if op == '&&' else 'or'} bool({b}))"
        if op in _COMPARE:
            return f"CE({a}, {b}, {_COMPARE[op]})"
        if op in ("<", ">", "<=", ">="):
            return f"CO({self.bind(op)}, {a}, {b})"
        return f"AR({self.bind(op)}, {a}, {b})"

    def call(self, name, args):
        """The expression of a function call, or None for a closure to do it."""
        if name not in FUNCTIONS or arity_problem(name, len(args)):
            return None
        if name == "TODAY":
            return self.expr(("ref", TODAY_REFERENCE))
        if name == "IF":
            test, then, other = (self.expr(a) for a in args)
            return f"({then} if {test} else {other})"
        if name in ("AND", "OR"):
            if not args:
                return "True" if name == "AND" else "False"
            joined = f" {name.lower()} ".join(f"bool({self.expr(a)})" for a in args)
            return f"({joined})"
        if name in ("BLANKVALUE", "NULLVALUE"):
            value, fallback = self.expr(args[0]), self.expr(args[1])
            slot = f"t{len(self.names)}"
            self.names[slot] = None  # keeps the temporary's name unique
            empty = f"BLANK({slot} := {value})" if name == "BLANKVALUE" else (
                f"({slot} := {value}) is None")
            return f"({fallback} if {empty} else {slot})"
        if name == "CASE":
            return None
        values = ", ".join(self.expr(a) for a in args)
        function = FUNCTIONS[name] if self.direct else _checked(name, FUNCTIONS[name], len(args))
        return f"{self.bind(function)}({values})"


def _checked(name, function, count):
    """`function` of `count` arguments (a count its signature allows), a value of a type it
    does not take (TypeError, AttributeError) raised as FormulaError naming it."""
    if count == 1:
        def call1(a):
            try:
                return function(a)
            except (TypeError, AttributeError):
                raise wrong_type(name) from None
        return call1
    if count == 2:
        def call2(a, b):
            try:
                return function(a, b)
            except (TypeError, AttributeError):
                raise wrong_type(name) from None
        return call2

    def call(*values):
        try:
            return function(*values)
        except (TypeError, AttributeError):
            raise wrong_type(name) from None
    return call
