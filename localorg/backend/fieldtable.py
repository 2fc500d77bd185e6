"""What a DML statement checks on every row of one object, read from its describe once.

`dml.Transaction` makes a `FieldTable` per object at the start of each DML statement (the schema
cannot change inside one), so a row's insert and checks do not walk every field of the object.
"""


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

    def field(self, key):
        """`ObjectDef.field(key)` (INVALID_FIELD when there is none), remembered per key."""
        fdef = self._by_key.get(key)
        if fdef is None:
            fdef = self._by_key[key] = self._odef.field(key)
        return fdef
