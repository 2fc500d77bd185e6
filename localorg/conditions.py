"""Condition trees for `Transaction.query(where=...)`, with SOQL's comparison semantics.

Build them with `Cmp(field, op, value)`, `And(*conds)`, `Or(*conds)`, `Not(cond)`:
    And(Cmp("Email", "IN", ["a@x.test", "b@x.test"]), Cmp("IsConverted", "=", False))
Operators: = != < <= > >= IN, NOT IN, LIKE. `Cmp(f, "=", None)` / `Cmp(f, "!=", None)` test null.
Fields may be dotted parent relationships (`Owner.Email`, `Relation.Type`).

SOQL semantics kept here: text comparisons are case-insensitive; `!=` matches null values;
ordering comparisons (<, >, …) never match null; LIKE uses `%` and `_` with `\\` as escape.
"""

import functools
import re
from dataclasses import dataclass

OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN", "LIKE")


def fold(value):
    """Comparison key: strings compare case-insensitively, as in SOQL."""
    return value.lower() if isinstance(value, str) else value


@dataclass(frozen=True)
class Cmp:
    field: str
    op: str
    value: object = None

    def __post_init__(self):
        op = self.op.upper().replace("<>", "!=")
        object.__setattr__(self, "op", op)
        if op not in OPERATORS:
            raise ValueError(f"unknown operator {self.op!r}; use one of {', '.join(OPERATORS)}")
        if op in ("IN", "NOT IN"):
            if not isinstance(self.value, list | tuple | set | frozenset):
                raise ValueError(f"{op} needs a list of values, got {self.value!r}")
            object.__setattr__(self, "folded", frozenset(fold(v) for v in self.value))


@dataclass(frozen=True)
class And:
    conds: tuple

    def __init__(self, *conds):
        object.__setattr__(self, "conds", tuple(conds))


@dataclass(frozen=True)
class Or:
    conds: tuple

    def __init__(self, *conds):
        object.__setattr__(self, "conds", tuple(conds))


@dataclass(frozen=True)
class Not:
    cond: object


def fields_of(cond) -> list:
    """Every field path a condition tree mentions."""
    if cond is None:
        return []
    if isinstance(cond, Cmp):
        return [cond.field]
    if isinstance(cond, Not):
        return fields_of(cond.cond)
    return [f for c in cond.conds for f in fields_of(c)]


@functools.lru_cache(maxsize=256)
def like_to_regex(pattern: str):
    """A LIKE pattern as a compiled regex (cached: a query matches it against every row)."""
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        out += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
        i += 1
    return re.compile(f"^{out}$", re.IGNORECASE | re.DOTALL)


def holds(cond, leaf) -> bool:
    """Whether an And/Or/Not tree holds, `leaf(x)` deciding each leaf (a Cmp, or any value such
    as the condition numbers of a flow's custom filter logic)."""
    if isinstance(cond, And):
        return all(holds(c, leaf) for c in cond.conds)
    if isinstance(cond, Or):
        return any(holds(c, leaf) for c in cond.conds)
    if isinstance(cond, Not):
        return not holds(cond.cond, leaf)
    return leaf(cond)


def evaluate(cond, get) -> bool:
    """Evaluate `cond` against a record; `get(field_path)` returns the (normalised) value."""
    return cond is None or holds(cond, lambda cmp: _compare(cmp, get))


def _compare(cond, get) -> bool:
    actual = fold(get(cond.field))
    op, want = cond.op, cond.value
    if op == "=":
        return actual == fold(want)
    if op == "!=":
        return actual != fold(want)
    if op == "IN":
        return actual is not None and actual in cond.folded
    if op == "NOT IN":
        return actual not in cond.folded
    if op == "LIKE":
        return actual is not None and bool(like_to_regex(str(want)).match(str(actual)))
    if actual is None or want is None:
        return False
    want = fold(want)
    try:
        return {
            "<": actual < want,
            "<=": actual <= want,
            ">": actual > want,
            ">=": actual >= want,
        }[op]
    except TypeError:
        return False
