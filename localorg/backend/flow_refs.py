"""Deploy check of a Flow's field references against the org's schema.

Salesforce refuses to deploy a flow whose data elements or `$Record` references name a field the
object does not have: the Flow component fails with "field integrity exception: unknown (The
field "X" for the object "Y" doesn't exist.)" (docs/fidelity.md, "Metadata API"). Checked here:
the `object` of Get/Create/Update/Delete Records and of the start element, their filter,
queried, sort, input and output fields, `$Record.<Field>` / `$Record__Prior.<Field>` and a
record variable's `var.<Field>` in references and formula expressions (for `x.Parent.Field` the
lookup field only). Fields and objects that CustomObject components of the same deploy add
count as existing.
"""

import re

from localorg.schema import MD_NS

DATA_ELEMENTS = ("recordLookups", "recordCreates", "recordUpdates", "recordDeletes")
FIELD_PATHS = ("filters/field", "queriedFields", "sortField", "inputAssignments/field",
               "outputAssignments/field")
REFERENCE_TAGS = ("elementReference", "leftValueReference", "assignToReference",
                  "inputReference", "expression", "stringValue", "formulaExpression", "text")
RECORD_REF = re.compile(r"\$Record(?:__Prior)?\.([A-Za-z0-9_.]+)")


VARIABLE_REF = re.compile(r"(?<![\w$.])([A-Za-z]\w*)\.([A-Za-z0-9_.]+)")


def _record_variables(root) -> dict:
    """Record variables by lower-case name -> their object (`var.Field` references)."""
    out = {}
    for var in root.findall(_q("variables")):
        name, obj = _text(var, "name"), _text(var, "objectType")
        if name and obj and _text(var, "dataType") == "SObject":
            out[name.lower()] = obj
    return out


def _q(path: str) -> str:
    return "/".join(f"{{{MD_NS}}}{part}" for part in path.split("/"))


def _text(el, path: str):
    found = el.find(_q(path))
    return found.text.strip() if found is not None and found.text else None


def lookup_field(path: str) -> str:
    """The field a `$Record` path starts from: `Owner.Name` -> OwnerId, `Acme__r.Name` ->
    Acme__c (Salesforce's relationship naming); a plain field is itself. Only that first step
    is checked: the parent's fields are another object's."""
    first, dot, _ = path.partition(".")
    if not dot:
        return first
    return first[:-3] + "__c" if first.endswith("__r") else first + "Id"


def problems(root, field_exists) -> list:
    """(problem, line) for each unknown object or field the flow references.

    `field_exists(obj, field)` answers True, False, or None when the object itself is unknown."""
    out, seen = [], set()

    def check(obj, field, line):
        key = (obj.lower(), (field or "").lower())
        if key in seen:
            return
        seen.add(key)
        known = field_exists(obj, field or "Id")
        if known is None:
            out.append((f'field integrity exception: unknown (The object "{obj}" doesn\'t '
                         "exist.)", line))
        elif not known:
            out.append((f'field integrity exception: unknown (The field "{field}" for the '
                        f'object "{obj}" doesn\'t exist.)', line))

    for kind in DATA_ELEMENTS:
        for element in root.findall(_q(kind)):
            obj = _text(element, "object")
            if obj:
                check(obj, None, element.sourceline)
                for path in FIELD_PATHS:
                    for field_el in element.findall(_q(path)):
                        if field_el.text and field_el.text.strip():
                            check(obj, field_el.text.strip(), field_el.sourceline)
    records = _record_variables(root)
    for el in root.iter(*(f"{{{MD_NS}}}{tag}" for tag in REFERENCE_TAGS)):
        for name, path in VARIABLE_REF.findall(el.text or ""):
            if name.lower() in records:
                check(records[name.lower()], lookup_field(path), el.sourceline)
    start = root.find(_q("start"))
    record_object = _text(start, "object") if start is not None else None
    if record_object:
        check(record_object, None, start.sourceline)
        for field_el in start.findall(_q("filters/field")):
            if field_el.text:
                check(record_object, field_el.text.strip(), field_el.sourceline)
        for el in root.iter(*(f"{{{MD_NS}}}{tag}" for tag in REFERENCE_TAGS)):
            for path in RECORD_REF.findall(el.text or ""):
                check(record_object, lookup_field(path), el.sourceline)
    return out


def references(root) -> set:
    """(object, field) pairs, lower case, that the flow references: what `problems` checks
    (an object's own use is `(object, "id")`). Field deletions are refused while one is."""
    found = set()

    def record(obj, field):
        found.add((obj.lower(), field.lower()))
        return True

    problems(root, record)
    return found
