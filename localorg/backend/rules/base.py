"""The hooks an object's rules may define, and the rules people (Contact, Lead, User) share."""


class Rules:
    """No rule beyond the describe. `txn` is the `dml.Transaction`; `full` the whole record
    about to be written, `given` the fields the caller set.

    The hooks before the write only read; the after_* hooks write. `after_write_may_fail`
    says whether an after_* hook may refuse the record (raise SalesforceError) once it is
    written: only then does a record of a partial-success statement need its own savepoint."""

    after_write_may_fail = False

    def may_fail_after_write(self, op: str, given: dict) -> bool:
        """Whether this record's after_* hook may refuse it (`op` "insert", "update", ...;
        `given` the record as the caller wrote it); never when `after_write_may_fail` is
        false."""
        return self.after_write_may_fail

    def before_write(self, txn, given: dict, before: dict | None) -> None:
        """Refuse a write of `given` fields (before is None on insert, else the stored record)."""

    def derive(self, txn, full: dict, given: dict) -> None:
        """Set computed fields on `full` before the required-field check."""

    def required(self, full: dict) -> list:
        """Names of fields missing beyond those the describe requires."""
        return []

    def validate(self, txn, full: dict) -> None:
        """Raise SalesforceError when the record breaks a rule of its object."""

    def after_insert(self, txn, full: dict) -> None:
        """Records the new record brings along (written in the same statement)."""

    def after_update(self, txn, full: dict, before: dict) -> None:
        """Records an update changes along with the record."""

    def after_delete(self, txn, record: dict) -> None:
        """Records deleted along with this one."""


class Person(Rules):
    """Contact, Lead and User: Name from FirstName and LastName; their EventRelations go with
    them."""

    def derive(self, txn, full, given):
        full["Name"] = " ".join(p for p in (full.get("FirstName"), full.get("LastName")) if p)

    def after_delete(self, txn, record):
        for rel in txn.org.db.rows("EventRelation"):
            if rel["RelationId"] == record["Id"]:
                txn.org.db.delete(rel["Id"])
