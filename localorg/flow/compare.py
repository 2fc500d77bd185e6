"""Flow condition semantics: filter logic, equality, condition operators, typed field values.

Decision and entry conditions compare text case-sensitively; null and the empty string are
different values (docs/fidelity.md, Flow runtime).
"""

import re
from datetime import date, datetime
from decimal import Decimal

from localorg.conditions import And, Not, Or
from localorg.errors import NotImplementedInLocalOrg, SalesforceError
from localorg.flow import formula
from localorg.flow.faults import FlowFault
from localorg.values import parse_datetime


def parse_logic(logic, conds):
    """Combine conditions with `and`, `or` or custom logic such as `1 AND (2 OR NOT 3)`."""
    logic = (logic or "and").strip()
    if logic.lower() == "and":
        return And(*conds)
    if logic.lower() == "or":
        return Or(*conds)
    tokens = re.findall(r"\d+|\(|\)|AND|OR|NOT", logic, re.IGNORECASE)
    if "".join(tokens).replace(" ", "") != re.sub(r"\s+", "", logic):
        raise SalesforceError("INVALID_FLOW", f"can't read filter logic {logic!r}")
    pos = 0

    def expr():
        nonlocal pos
        node = term()
        while pos < len(tokens) and tokens[pos].upper() == "OR":
            pos += 1
            node = Or(node, term())
        return node

    def term():
        nonlocal pos
        node = factor()
        while pos < len(tokens) and tokens[pos].upper() == "AND":
            pos += 1
            node = And(node, factor())
        return node

    def factor():
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok.upper() == "NOT":
            return Not(factor())
        if tok == "(":
            node = expr()
            pos += 1
            return node
        index = int(tok) - 1
        if not 0 <= index < len(conds):
            raise SalesforceError("INVALID_FLOW", f"filter logic {logic!r} names condition "
                                  f"{tok}, but there are {len(conds)}")
        return conds[index]

    return expr()


def _norm(v):
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int | float):
        return Decimal(str(v))
    return v


_PLAIN = (str, bool, Decimal)  # compared as they are: the common case, decided at once


def flow_equal(a, b):
    """Equals in a condition or collection operator: null equals only null, so null and the
    empty string differ (fidelity: Flow runtime / null versus empty string)."""
    if a.__class__ is b.__class__ and a.__class__ in _PLAIN:
        return a == b
    if a is None or b is None:
        return a is None and b is None
    a, b = _norm(a), _norm(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a is b or (a.get("Id") is not None and a.get("Id") == b.get("Id"))
    if isinstance(a, Decimal) and isinstance(b, str) or isinstance(b, Decimal) and isinstance(
            a, str):
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except ArithmeticError:
            return False
    return a == b


def compare(op, left, right, flow, element):
    """A decision/entry condition with Flow semantics (text is case-sensitive)."""
    if op == "EqualTo":
        return flow_equal(left, right)
    if op == "NotEqualTo":
        return not flow_equal(left, right)
    if op == "IsNull":
        return (left is None) == bool(right)
    if op == "IsBlank":
        return formula.is_blank(left) == bool(right)
    if op == "IsEmpty":
        return (not left) == bool(right)
    if op == "IsChanged":
        return not right  # records are only created here: nothing has changed
    if op in ("In", "NotIn"):
        found = any(flow_equal(left, r) for r in (right or []))
        return found if op == "In" else not found
    if op in ("Contains", "StartsWith", "EndsWith"):
        if isinstance(left, list):
            if op != "Contains":
                raise FlowFault(flow, element, f"{op} needs text, got a collection")
            return any(flow_equal(x, right) for x in left)
        if left is None:
            return False
        left, right = str(left), "" if right is None else str(right)
        return {"Contains": right in left, "StartsWith": left.startswith(right),
                "EndsWith": left.endswith(right)}[op]
    if op in ("GreaterThan", "LessThan", "GreaterThanOrEqualTo", "LessThanOrEqualTo"):
        if left is None or right is None:
            return False
        left, right = _norm(left), _norm(right)
        if isinstance(left, datetime) != isinstance(right, datetime):
            left, right = (parse_datetime(left), parse_datetime(right))
        return {"GreaterThan": left > right, "LessThan": left < right,
                "GreaterThanOrEqualTo": left >= right, "LessThanOrEqualTo": left <= right}[op]
    raise NotImplementedInLocalOrg(f"the condition operator {op} (flow {flow}, element {element})")


# Field types whose stored text typed() converts; any other text is returned as it is.
TYPED = frozenset({"datetime", "date", "double", "int", "currency", "percent"})


def typed(value, ftype):
    """A stored field value as a flow value: datetimes, dates and numbers become typed."""
    if value is None or not isinstance(value, str | int | float):
        return value
    if ftype == "datetime" and isinstance(value, str):
        return parse_datetime(value)
    if ftype == "date" and isinstance(value, str):
        return date.fromisoformat(value[:10])
    if ftype in ("double", "int", "currency", "percent") and not isinstance(value, bool):
        return Decimal(str(value))
    return value
