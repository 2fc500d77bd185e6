"""What a DML statement checks on every row of one object, read from its describe once.

`dml.Transaction` makes a `FieldTable` per object at the start of each DML statement (the schema
cannot change inside one), so a row's insert and checks do not walk every field of the object.
"""

from localorg.schema import AUDIT_FIELDS


class FieldTable:
    """One object's fields as the per-row DML checks use them."""

    def __init__(self, odef):
        fields = list(odef.fields.values())
        # A new record: every field, with its default value where it has one.
        self.blank = {f.name: f.default_value for f in fields}
        # fidelity: DML / required: createable, not nillable, not defaulted on create
        self.required = [f.name for f in fields
                         if not f.nillable and f.createable and not f.defaulted_on_create
                         and f.type != "boolean"]
        # A checkbox that is not nillable is false (or its default) when left null.
        self.booleans = [(f.name, bool(f.default_value)) for f in fields
                         if f.type == "boolean" and not f.nillable]
        self.unique = [f for f in fields if f.unique and f.custom]
        self.has_owner = odef.has("OwnerId")
        self._odef = odef
        self._by_key = {}  # a field's name as a statement's records spell it -> FieldDef
        self._refused = {}  # (creating, upserting) -> names
        self._references = {}  # key -> whether it names a reference or id field
        self._plans = {}  # (a record's keys, creating, upserting) -> `plan`

    def refused(self, creating: bool, upserting: bool) -> frozenset:
        """Names of the fields an insert (`creating`; audit fields not by an upsert) or an
        update may not set, as `dml.Transaction._clean` refuses them."""
        names = self._refused.get((creating, upserting))
        if names is None:
            # fidelity: DML / fields the describe says are not createable or updateable; audit
            # fields are set on insert only, never by an upsert (Create Audit Fields)
            names = self._refused[creating, upserting] = frozenset(
                f.name for f in self._odef.fields.values() if f.name != "Id" and not (
                    (f.createable and not (upserting and f.name in AUDIT_FIELDS)) if creating
                    else f.updateable))
        return names

    def is_reference(self, key) -> bool:
        """Whether `key` names a reference or id field (False when it names no field)."""
        found = self._references.get(key)
        if found is None:
            fdef = self._odef.fields.get(key.lower())
            found = self._references[key] = fdef is not None and fdef.type in ("reference", "id")
        return found

    def field(self, key):
        """`ObjectDef.field(key)` (INVALID_FIELD when there is none), remembered per key."""
        fdef = self._by_key.get(key)
        if fdef is None:
            fdef = self._by_key[key] = self._odef.field(key)
        return fdef

    def plan(self, keys: tuple, creating: bool, upserting: bool):
        """([(key, FieldDef)] of a record's `keys` but "attributes", the names of those fields
        the record may not set (`refused`)), remembered per keys: a statement's rows repeat
        them. INVALID_FIELD (`field`) for the first key naming no field."""
        found = self._plans.get((keys, creating, upserting))
        if found is None:
            fdefs = [(key, self.field(key)) for key in keys if key != "attributes"]
            not_writable = self.refused(creating, upserting)
            found = self._plans[keys, creating, upserting] = (
                fdefs, [f.name for _, f in fdefs if f.name in not_writable])
        return found
