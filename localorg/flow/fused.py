"""Generated Python for the hottest parts of a compiled flow version (program.py).

A formula's accessor is one generated function: the memo check, the formula as one Python
expression (variables read from the interview's dict, functions called directly) and the cast
to the formula's data type. Whatever that fast path cannot decide alone is decided by the
closure it replaces (`slow`, references.py), which raises exactly what it raised before:
a KeyError (a variable read while the interview sets its variables up) or a TypeError (a
function given wrong arguments, which the closure names in a FormulaError) makes the generated
function evaluate again through `slow`. Formula functions have no side effects, so evaluating
again gives the same value or error.
"""

from decimal import Decimal

from localorg.flow import formula
from localorg.flow.formula_compile import Source
from localorg.flow.references import caster

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
        except (KeyError, TypeError):
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
