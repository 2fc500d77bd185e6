"""Deploy checks of a Flow's formulas: what Salesforce refuses when a flow is saved.

A formula (`<formulas><expression>`, the start element's `<filterFormula>`) that does not parse,
or calls a function with a number of arguments its signature does not allow, fails the Flow
component with "field integrity exception: unknown (The formula expression is invalid: ...)"
(docs/fidelity.md, "Metadata API"). A function the local engine does not implement is left to
the runtime, which names it when the flow loads: Salesforce may well have it.
"""

from localorg.flow import formula
from localorg.schema import MD_NS

FORMULA_PATHS = ("formulas/expression", "start/filterFormula")


def _q(path: str) -> str:
    return "/".join(f"{{{MD_NS}}}{part}" for part in path.split("/"))


def formula_problems(root) -> list:
    """(problem, line) for each formula of the flow Salesforce would refuse."""
    out = []
    for path in FORMULA_PATHS:
        for el in root.findall(_q(path)):
            try:
                formula.parse(el.text or "")
            except formula.UnknownFunction:
                continue
            except formula.FormulaError as exc:
                out.append(("field integrity exception: unknown (The formula expression is "
                            f"invalid: {exc.message})", el.sourceline))
    return out
