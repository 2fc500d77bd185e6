"""Deploy checks of a Flow's formulas and Get Records limits: what Salesforce refuses when a
flow is saved, so the local org never stores a flow that would fail here in Python's words.

A formula (`<formulas><expression>`, the start element's `<filterFormula>`) that does not parse,
calls a function flows do not have, calls one with a number of arguments its signature does not
allow, or reads a merge field whose name the flow does not define (globals, `$...`, aside) fails
the Flow component with "field integrity exception: unknown (The formula expression is invalid:
...)", Salesforce's wording ("Unknown function LENN. Check spelling.").
A function flows have that the local runtime does not run (formula_functions.py) fails it too,
saying so: the local org cannot run the flow, which is no fault of the flow. A Get Records
`<limit>` must be a whole number of at least 1, or a reference to a Number or Currency resource
that is not a collection, or to another name the flow defines (the schema already refuses a
number that is not one). docs/fidelity.md, "Metadata API".
"""

from lxml import etree

from localorg.flow import formula
from localorg.flow.data import record_limit
from localorg.schema import MD_NS

FORMULA_PATHS = ("formulas/expression", "start/filterFormula")
RESOURCES = ("variables", "constants", "formulas")
NUMERIC = ("Number", "Currency")
INVALID = "field integrity exception: unknown (The formula expression is invalid: {})"
UNDEFINED = "Field {} does not exist. Check spelling."  # a merge field naming nothing


def _q(path: str) -> str:
    return "/".join(f"{{{MD_NS}}}{part}" for part in path.split("/"))


def problems(root) -> list:
    """(problem, line) for each formula and Get Records limit Salesforce would refuse."""
    return formula_problems(root) + limit_problems(root)


def formula_problems(root) -> list:
    return [(INVALID.format(error.message) if isinstance(error, formula.FormulaError)
             else error.message, line) for error, line in formula_errors(root)]


def faults(root) -> list:
    """problems() but what the local org lacks (NOT_IMPLEMENTED): the flow's own faults."""
    return [(INVALID.format(error.message), line) for error, line in formula_errors(root)
            if isinstance(error, formula.FormulaError)] + limit_problems(root)


def formula_errors(root) -> list:
    """(error, line) for each formula Salesforce would refuse (FormulaError) or the local
    runtime cannot run (NOT_IMPLEMENTED: a Salesforce function it lacks)."""
    out, defined = [], _defined_names(root)
    for path in FORMULA_PATHS:
        for el in root.findall(_q(path)):
            try:
                parsed = formula.parse(el.text or "")
                missing = [formula.missing_function(name) for name in formula.called(parsed)
                           if name not in formula.FUNCTIONS]
                missing += [formula.FormulaError(UNDEFINED.format(ref.strip()))
                            for ref in formula.references(parsed) if not ref.strip().startswith(
                                "$") and ref.split(".")[0].strip().lower() not in defined]
                # the flow's own fault (a name flows lack) before what the local org lacks
                error = next((e for e in missing if isinstance(e, formula.FormulaError)),
                             next(iter(missing), None))
            except formula.FormulaError as exc:
                error = exc
            if error is not None:
                out.append((error, el.sourceline))
    return out


def not_implemented(root):
    """The first NOT_IMPLEMENTED error among the formulas, or None."""
    return next((error for error, _ in formula_errors(root)
                 if not isinstance(error, formula.FormulaError)), None)


def _defined_names(root) -> set:
    """Every name the flow defines (resources, elements, screen components), lower case."""
    return {(el.text or "").strip().lower() for el in root.iter(f"{{{MD_NS}}}name")}


def _numeric_resources(root) -> dict:
    """Lower-case name -> whether it is a single Number or Currency resource, for the
    resources (variables, constants, formulas) and, as True, any other name the flow defines
    (a screen component, an element): those are typed at run time."""
    return dict.fromkeys(_defined_names(root), True) | {
        (el.findtext(_q("name")) or "").lower():
            el.findtext(_q("dataType")) in NUMERIC and el.findtext(_q("isCollection")) != "true"
        for kind in RESOURCES for el in root.findall(_q(kind))}


def limit_problems(root) -> list:
    out, numeric = [], None
    for lookup in root.findall(_q("recordLookups")):
        limit = lookup.find(_q("limit"))
        # its value element, comments aside (as flow/model.py reads the flow)
        value = next((kid for kid in limit if isinstance(kid.tag, str)), None) \
            if limit is not None else None
        if value is None:
            continue  # no limit (an empty element is nil)
        kind, raw = etree.QName(value).localname, (value.text or "").strip()
        if kind == "numberValue":
            ok = record_limit(raw) is not None
        elif kind == "elementReference" and "." not in raw and not raw.startswith("$"):
            numeric = _numeric_resources(root) if numeric is None else numeric
            ok = numeric.get(raw.lower(), False)  # a name the flow does not define: refused
        else:
            ok = kind == "elementReference"  # a record field or global: typed at run time
        if not ok:
            out.append((f"field integrity exception: unknown (The limit of Get Records element "
                        f"{lookup.findtext(_q('name'))} must be a whole number of at least 1 or "
                        f"a Number resource, not {kind} {raw})", limit.sourceline))
    return out
