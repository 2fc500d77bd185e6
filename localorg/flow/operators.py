"""Assignment operators of flow Assignment elements, chosen once per assignment item.

`combiner(op, is_collection, element)` returns `combine(interview, current, value)`: the new
value of the target, or IN_PLACE when a Remove operator changed the target collection itself.
"""

from decimal import Decimal

from localorg.flow import formula
from localorg.flow.compare import flow_equal

IN_PLACE = object()
REMOVES = ("RemoveAll", "RemoveFirst", "RemoveUncommon", "RemoveAfterFirst", "RemoveBeforeFirst",
           "RemovePosition")


def combiner(op, is_collection, element):
    if op == "Assign":
        return lambda iv, current, value: value
    if op == "AssignCount":
        return lambda iv, current, value: Decimal(len(value or []))
    if op in ("Add", "AddItem", "AddAtStart"):
        return _adder(op == "AddAtStart", is_collection)
    if op == "Subtract":
        def subtract(iv, current, value):
            if isinstance(current, list):
                iv.fail(element, "Subtract works on numbers and dates; use RemoveAll")
            return formula._arith("-", current if current is not None else Decimal(0), value)
        return subtract
    if op in REMOVES:
        return _remover(op)
    return lambda iv, current, value: iv.unsupported(element, f"the assignment operator {op}")


def _adder(at_start, is_collection):
    def add(iv, current, value):
        if isinstance(current, list) or (current is None and is_collection):
            items = list(value) if isinstance(value, list) else [value]
            new = current if current is not None else []
            if at_start:
                new[:0] = items
            else:
                new.extend(items)
            return new
        if isinstance(current, str) or (current is None and isinstance(value, str)):
            return (current or "") + formula.text(value)
        if current is None and value is None:
            return None
        return formula._arith("+", current if current is not None else Decimal(0), value)
    return add


def _remover(op):
    def remove(iv, current, value):
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
            return IN_PLACE
        return new
    return remove
