"""Expand a scenario's `generate:` block: many similar records from one template each.

A large scenario (50 or 200 bookings) says once what each booking looks like instead of
committing every copy. `expand(data)` returns the scenario with the block replaced by the records
it makes, so the runner and the Apex generator read the same, ordinary scenario:

    generate:
      count: 200                 # n = 1 .. count
      org:                       # records per n, added after the file's own, object by object
        Contact: [{FirstName: "C{n:03}", LastName: Guest, Email: "c{n:03}@bulk.test"}]
      transaction: [{...}]       # bookings per n; all of them are ONE more transaction
      events: [{...}]            # expected Events per n, added to expect.events
      unmatched: {"inv-{n:03}": ["x{n:03}@nowhere.test"]}   # merged into expect.unmatched

In every string of a template (keys too), `{n}` is the number in Python's format syntax:
`{n:03}` gives 001, 002, ...; a literal brace is written twice. Any other key, a count that is
not a positive whole number, or a placeholder other than n is an error naming it.
"""

import string

KEYS = {"count", "org", "transaction", "events", "unmatched"}
MAX_COUNT = 10_000


class GenerateError(ValueError):
    """The generate block is unusable; the message says what to fix."""


def expand(data: dict) -> dict:
    """The scenario with its `generate` block (if any) expanded; `data` is left unchanged."""
    if not isinstance(data, dict) or "generate" not in data:
        return data
    block = data["generate"]
    if not isinstance(block, dict) or set(block) - KEYS or "count" not in block:
        raise GenerateError(f"generate: a mapping with count and any of {sorted(KEYS - {'count'})};"
                            f" got {block!r}")
    count = block["count"]
    if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= MAX_COUNT:
        raise GenerateError(f"generate.count: a whole number from 1 to {MAX_COUNT}; got {count!r}")
    out = {k: v for k, v in data.items() if k != "generate"}
    numbers = range(1, count + 1)
    org = dict(out.get("org") or {})
    for sobject, templates in _mapping(block, "org").items():
        org[sobject] = list(org.get(sobject) or []) + _each(templates, numbers, f"org.{sobject}")
    if org:
        out["org"] = org
    if "transaction" in block:
        out["transactions"] = list(out.get("transactions") or []) + [
            _each(block["transaction"], numbers, "transaction")]
    expect = dict(out.get("expect") or {})
    if "events" in block:
        expect["events"] = list(expect.get("events") or []) + _each(block["events"], numbers,
                                                                    "events")
    if "unmatched" in block:
        unmatched = dict(expect.get("unmatched") or {})
        for n in numbers:
            unmatched.update(_fill(_mapping(block, "unmatched"), n, "unmatched"))
        expect["unmatched"] = unmatched
    if expect:
        out["expect"] = expect
    order = ["description", "org", "transactions", "expect"]
    return {k: out[k] for k in sorted(out, key=lambda k: order.index(k) if k in order else 4)}


def _mapping(block, key):
    value = block.get(key) or {}
    if not isinstance(value, dict):
        raise GenerateError(f"generate.{key}: a mapping; got {value!r}")
    return value


def _each(templates, numbers, where) -> list:
    if not isinstance(templates, list) or not all(isinstance(t, dict) for t in templates):
        raise GenerateError(f"generate.{where}: a list of records; got {templates!r}")
    return [_fill(t, n, where) for n in numbers for t in templates]


def _fill(value, n: int, where: str):
    if isinstance(value, str):
        names = {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}
        if names - {"n"}:
            raise GenerateError(f"generate.{where}: {value!r} uses {sorted(names - {'n'})}; only "
                                "{n} is known (write a literal brace twice)")
        try:
            return value.format(n=n)
        except (ValueError, IndexError) as exc:
            raise GenerateError(f"generate.{where}: {value!r}: {exc}") from None
    if isinstance(value, dict):
        return {_fill(k, n, where): _fill(v, n, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, n, where) for v in value]
    return value
