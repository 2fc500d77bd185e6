"""Salesforce formula expressions as flows use them: parse once, evaluate against an interview.

Why our own: no Python library evaluates Salesforce's formula language. Supported: literals
(numbers, "text"/'text', TRUE/FALSE/NULL), merge fields `{!var.Field}` (resolved by the caller),
operators `& + - * / ^ = == != <> < > <= >= && || !` and the functions in FUNCTIONS. A call with
a number of arguments its signature (formula_signatures.py) does not allow is an error raised
when the formula is parsed, unless the caller parses with `check_arity=False` (a flow stored
before: evaluating that call fails). A call of a function not in FUNCTIONS parses; `called`
lists it for the deploy check, and evaluating it fails (`missing_function`): Salesforce's
"Unknown function" error for a name flows do not have, NOT_IMPLEMENTED for one they do
(formula_functions.py).

Null semantics follow Flow's "treat blanks as blanks": arithmetic with null gives null, `&`
treats null as ""; a blank text compares as "" (so null <> "x" is true); any other comparison
with a null operand (numbers, dates, booleans, <, >) is false, whether = or <>. ISBLANK and
BLANKVALUE treat null and "" alike; ISNULL and NULLVALUE only null. TRIM removes spaces and tabs
only (docs/fidelity.md, Flow runtime).
"""

import math
import operator
import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from localorg.errors import SalesforceError
from localorg.flow.formula_functions import FLOW_FUNCTIONS, not_implemented, unknown
from localorg.flow.formula_signatures import arity_problem
from localorg.values import parse_datetime


class FormulaError(SalesforceError):
    """A formula that cannot be parsed or evaluated; the message names the formula and the cause."""

    def __init__(self, message):
        super().__init__("FORMULA_ERROR", message)


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<comment>/\*.*?\*/)
  | (?P<merge>\{!\s*[^}]+\})
  | (?P<number>\d+(\.\d+)?|\.\d+)
  | (?P<string>"(\\.|[^"\\])*"|'(\\.|[^'\\])*')
  | (?P<op>&&|\|\||==|!=|<>|<=|>=|[-+*/^&=<>!(),])
  | (?P<name>[$A-Za-z_][$\w.]*)
""", re.VERBOSE | re.DOTALL)


def tokenize(text):
    pos, out = 0, []
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise FormulaError(f"unexpected character {text[pos]!r} at position {pos}")
        pos = m.end()
        kind = m.lastgroup
        if kind in ("ws", "comment"):
            continue
        out.append((kind, m.group()))
    out.append(("end", ""))
    return out


def _unquote(s):
    body = s[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1),
                                                                             m.group(1)), body)


class Parser:
    """Precedence climbing over the token list; produces nested tuples."""

    LEVELS = [("||",), ("&&",), ("=", "==", "!=", "<>"), ("<", ">", "<=", ">="),
              ("+", "-", "&"), ("*", "/"), ("^",)]

    def __init__(self, text, check_arity=True):
        self.tokens = tokenize(text)
        self.i = 0
        self.check_arity = check_arity

    def peek(self):
        return self.tokens[self.i]

    def take(self, value=None):
        tok = self.tokens[self.i]
        if value is not None and tok[1] != value:
            raise FormulaError(f"expected {value!r} but found {tok[1] or 'end of formula'!r}")
        self.i += 1
        return tok

    def parse(self):
        node = self.binary(0)
        if self.peek()[0] != "end":
            raise FormulaError(f"unexpected {self.peek()[1]!r} after the end of the expression")
        return node

    def binary(self, level):
        if level == len(self.LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in self.LEVELS[level]:
            op = self.take()[1]
            node = ("op", op, node, self.binary(level + 1))
        return node

    def unary(self):
        kind, value = self.peek()
        if kind == "op" and value in ("-", "!", "+"):
            self.take()
            return ("neg" if value == "-" else "not" if value == "!" else "pos", self.unary())
        return self.primary()

    def primary(self):
        kind, value = self.take()
        if kind == "number":
            return ("lit", Decimal(value))
        if kind == "string":
            return ("lit", _unquote(value))
        if kind == "merge":
            return ("ref", value[2:-1].strip())
        if kind == "op" and value == "(":
            node = self.binary(0)
            self.take(")")
            return node
        if kind == "name":
            upper = value.upper()
            if self.peek()[1] == "(":
                self.take("(")
                args = []
                if self.peek()[1] != ")":
                    args.append(self.binary(0))
                    while self.peek()[1] == ",":
                        self.take(",")
                        args.append(self.binary(0))
                self.take(")")
                if self.check_arity and upper in FUNCTIONS and arity_problem(upper, len(args)):
                    raise FormulaError(arity_problem(upper, len(args)))
                return ("call", upper, args)
            if upper in ("TRUE", "FALSE"):
                return ("lit", upper == "TRUE")
            if upper == "NULL":
                return ("lit", None)
            return ("ref", value)
        raise FormulaError(f"unexpected {value or 'end of formula'!r}")


def parse(text: str, check_arity=True):
    """Parse a formula; raise FormulaError naming the problem."""
    return Parser(text or "", check_arity).parse()


def called(node) -> list:
    """Names (upper case) of the functions a parsed formula calls, outermost first."""
    kind = node[0]
    if kind == "call":
        return [node[1]] + [name for a in node[2] for name in called(a)]
    if kind == "op":
        return called(node[2]) + called(node[3])
    if kind in ("neg", "not", "pos"):
        return called(node[1])
    return []


def missing_function(name: str):
    """The error of evaluating a call of `name`, a function not in FUNCTIONS."""
    return not_implemented(name) if name in FLOW_FUNCTIONS else FormulaError(unknown(name))


def references(node) -> list:
    """Merge-field references a parsed formula reads."""
    if node[0] == "ref":
        return [node[1]]
    if node[0] in ("neg", "not", "pos"):
        return references(node[1])
    if node[0] == "op":
        return references(node[2]) + references(node[3])
    if node[0] == "call":
        return [r for a in node[2] for r in references(a)]
    return []


# ----- evaluation ---------------------------------------------------------------------------

def is_blank(v):
    return v is None or v == "" or (isinstance(v, list) and not v)


def num(v):
    if v is None or isinstance(v, Decimal):
        return v
    if isinstance(v, bool):
        raise FormulaError(f"expected a number, got {v}")
    if isinstance(v, int | float):
        return Decimal(str(v))
    try:
        return Decimal(str(v).strip())
    except Exception:  # noqa: BLE001 - decimal raises several types
        raise FormulaError(f"expected a number, got {v!r}") from None


def text(v):
    """Salesforce TEXT() rendering."""
    if v.__class__ is str:
        return v
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal | int | float):
        d = num(v)
        return format(d.normalize(), "f") if d == d.to_integral() else format(d, "f")
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _cmp_values(a, b):
    if isinstance(a, str) and isinstance(b, str):
        return a, b
    if isinstance(a, datetime) or isinstance(b, datetime):
        return a, b
    if isinstance(a, Decimal | int | float) and not isinstance(a, bool):
        return num(a), num(b)
    return a, b


def _arith(op, a, b):
    if a is None or b is None:
        return None
    if a.__class__ is Decimal and b.__class__ is Decimal and op in _PLAIN_ARITH:
        return _PLAIN_ARITH[op](a, b)  # what the general path below does with two numbers
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return a + b
    try:
        return _mixed_arith(op, a, b)
    except TypeError:  # e.g. a Date minus a Date/Time
        raise wrong_operand(op) from None
    except (ArithmeticError, ValueError):  # 2 ^ 10000, 0 ^ -1, a date past year 9999
        raise no_result(f"the operator '{op}'") from None


def _mixed_arith(op, a, b):
    if isinstance(a, date | datetime) and op in ("+", "-") and not isinstance(b, date):
        delta = timedelta(days=float(num(b)))
        if not isinstance(a, datetime):
            delta = timedelta(days=int(num(b)))
        return a + delta if op == "+" else a - delta
    if isinstance(a, date) and isinstance(b, date) and op == "-":
        diff = a - b
        return num(diff.days) if not isinstance(a, datetime) else num(diff.total_seconds() / 86400)
    a, b = num(a), num(b)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            raise FormulaError("division by zero")
        return a / b
    return num(math.pow(float(a), float(b)))


def _round(v, digits=Decimal(0)):
    if v is None:
        return None
    q = Decimal(1).scaleb(-int(num(digits)))
    try:
        return num(v).quantize(q, rounding=ROUND_HALF_UP)
    except ArithmeticError:  # more digits than a number holds
        raise no_result("the function 'ROUND()'") from None


def _mod(a, b):
    if a is None or b is None:
        return None
    if num(b) == 0:
        raise FormulaError("division by zero")
    return num(a) % num(b)


def _datevalue(v):
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        return v.astimezone(UTC).date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v).strip()[:10])
    except ValueError:
        raise FormulaError(f"DATEVALUE: {v!r} is not a date (expected YYYY-MM-DD)") from None


def _datetimevalue(v):
    if v is None or v == "":
        return None
    try:
        return parse_datetime(v)
    except ValueError:
        raise FormulaError(f"DATETIMEVALUE: {v!r} is not a date/time") from None


def _regex(t, pattern):
    """REGEX matches the entire text, with Java's default flags (`.` stops at a line break):
    https://help.salesforce.com/s/articleView?id=platform.customize_functions_regex.htm"""
    try:
        return bool(re.fullmatch(pattern or "", t or ""))
    except re.error as exc:
        raise FormulaError(f"REGEX: invalid regular expression {pattern!r}: {exc}") from None


def _find(search, t, start=Decimal(1)):
    """0 when not found, for a blank text, and for a start_num of 0 or less (FIND's page)."""
    first = int(num(start)) if start is not None else 1
    if not search or t is None or first < 1:
        return Decimal(0)
    return Decimal(t.find(search, first - 1) + 1)


def _mid(t, start, length):
    if t is None:
        return None
    s = max(int(num(start)), 1) - 1
    return t[s:s + max(int(num(length)), 0)]


def _pad(t, length, pad=" ", left=True):
    t = t or ""
    n = int(num(length))
    if len(t) >= n:
        return t[:n]
    fill = ((pad or " ") * n)[: n - len(t)]
    return fill + t if left else t + fill


def _value(v):
    if v is None or v == "":
        return None
    return num(v)


def _substitute(t, old, new):
    if t is None:
        return None
    return t.replace(old, new or "") if old else t


# Eager functions: arguments evaluated first. Lazy ones (IF, CASE, AND, OR, BLANKVALUE…) and
# TODAY (a date of the running user, read as a merge field) are handled in `evaluate`.
FUNCTIONS = {
    "NOT": lambda a: None if a is None else not a,
    "ISBLANK": is_blank,
    "ISNULL": lambda a: a is None,
    "ISNUMBER": lambda a: a is not None and bool(re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", text(a))),
    "ISPICKVAL": lambda a, b: (a or "") == (b or ""),
    "TEXT": text,
    "VALUE": _value,
    "LEN": lambda a: Decimal(len(a or "")),
    "LEFT": lambda a, n: None if a is None else a[: max(int(num(n)), 0)],
    "RIGHT": lambda a, n: None if a is None else (a[-int(num(n)):] if int(num(n)) > 0 else ""),
    "MID": _mid,
    "FIND": _find,
    "SUBSTITUTE": _substitute,
    "TRIM": lambda a: None if a is None else a.strip(" \t"),
    "LOWER": lambda a, *_: None if a is None else a.lower(),
    "UPPER": lambda a, *_: None if a is None else a.upper(),
    "CONTAINS": lambda a, b: (b or "") in (a or ""),
    "BEGINS": lambda a, b: (a or "").startswith(b or ""),
    "REGEX": _regex,
    "LPAD": lambda a, n, p=" ": _pad(a, n, p, True),
    "RPAD": lambda a, n, p=" ": _pad(a, n, p, False),
    "ROUND": _round,
    "ABS": lambda a: None if a is None else abs(num(a)),
    "FLOOR": lambda a: None if a is None else num(math.floor(num(a))),
    "CEILING": lambda a: None if a is None else num(math.ceil(num(a))),
    "MOD": _mod,
    "MAX": lambda *a: max(num(x) for x in a) if None not in a else None,
    "MIN": lambda *a: min(num(x) for x in a) if None not in a else None,
    "NOW": lambda: datetime.now(UTC),
    "DATEVALUE": _datevalue,
    "DATETIMEVALUE": _datetimevalue,
    "IF": None, "CASE": None, "AND": None, "OR": None, "BLANKVALUE": None, "NULLVALUE": None,
    "TODAY": None,  # today in the running user's time zone: the value of TODAY_REFERENCE
}
TODAY_REFERENCE = "$Flow.CurrentDate"


_SAME = (str, Decimal, bool)  # two values of one of these classes compare as they are
_PLAIN_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}
_ORDER = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}


def compare_equal(a, b, equal):
    """`a = b` (equal True) or `a <> b` (equal False), with Flow's null rules."""
    if a.__class__ is b.__class__ and a.__class__ in _SAME:
        return (a == b) == equal
    if a is not None and b is not None:
        x, y = _cmp_values(a, b)
        return (x == y) == equal
    if isinstance(a, str) or isinstance(b, str) or a == b:
        # A blank text is the empty string: null = "" is true, null <> "x" is true.
        return (is_blank(a) and is_blank(b)) == equal
    return False  # a null number, date or boolean compares as neither equal nor unequal


def compare_order(op, a, b):
    """`a < b` and the like: false when either is null."""
    if a is None or b is None:
        return False
    if a.__class__ is b.__class__ and a.__class__ in _SAME:
        return _ORDER[op](a, b)  # what _cmp_values leaves them as
    x, y = _cmp_values(a, b)
    try:
        return _ORDER[op](x, y)
    except TypeError:  # e.g. a Text and a Number, a Date and a Date/Time
        raise wrong_operand(op) from None


def evaluate(node, resolve):
    """Evaluate a parsed formula; `resolve(reference)` returns a merge field's value."""
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "ref":
        return resolve(node[1])
    if kind == "neg":
        v = evaluate(node[1], resolve)
        return None if v is None else -num(v)
    if kind == "pos":
        return evaluate(node[1], resolve)
    if kind == "not":
        v = evaluate(node[1], resolve)
        return None if v is None else not v
    if kind == "op":
        op = node[1]
        if op == "&&":
            return bool(evaluate(node[2], resolve)) and bool(evaluate(node[3], resolve))
        if op == "||":
            return bool(evaluate(node[2], resolve)) or bool(evaluate(node[3], resolve))
        a, b = evaluate(node[2], resolve), evaluate(node[3], resolve)
        if op == "&":
            return text(a) + text(b)
        if op in ("=", "==", "!=", "<>"):
            return compare_equal(a, b, op in ("=", "=="))
        if op in ("<", ">", "<=", ">="):
            return compare_order(op, a, b)
        return _arith(op, a, b)
    name, args = node[1], node[2]
    if name not in FUNCTIONS:
        raise missing_function(name)
    if arity_problem(name, len(args)):
        raise FormulaError(arity_problem(name, len(args)))
    if name == "TODAY":
        return resolve(TODAY_REFERENCE)
    if name == "IF":
        return evaluate(args[1] if evaluate(args[0], resolve) else args[2], resolve)
    if name == "AND":
        return all(bool(evaluate(a, resolve)) for a in args)
    if name == "OR":
        return any(bool(evaluate(a, resolve)) for a in args)
    if name in ("BLANKVALUE", "NULLVALUE"):
        v = evaluate(args[0], resolve)
        empty = is_blank(v) if name == "BLANKVALUE" else v is None
        return evaluate(args[1], resolve) if empty else v
    if name == "CASE":
        subject = evaluate(args[0], resolve)
        pairs = args[1:]
        for i in range(0, len(pairs) - 1, 2):
            candidate = evaluate(pairs[i], resolve)
            if evaluate(("op", "=", ("lit", subject), ("lit", candidate)), resolve):
                return evaluate(pairs[i + 1], resolve)
        return evaluate(pairs[-1], resolve)
    values = [evaluate(a, resolve) for a in args]
    try:
        return FUNCTIONS[name](*values)
    except (TypeError, AttributeError):
        raise wrong_type(name) from None


def wrong_operand(op):
    """Operands of types the operator does not take (Salesforce refuses such a formula when it
    is saved; the local deploy does not check types, so the runtime says so)."""
    return FormulaError(f"Incorrect parameter type for operator '{op}'")


def no_result(what):
    """An operation whose result is no number (out of range or undefined)."""
    return FormulaError(f"{what} has no result a number can hold")


def wrong_type(name):
    """A function given a value of a type it does not take (e.g. LEN of a number): Salesforce
    refuses such a formula when it is saved; the runtime says so without Python's words."""
    return FormulaError(f"Incorrect parameter type for function '{name}()'")
