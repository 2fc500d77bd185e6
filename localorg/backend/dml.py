"""`Transaction`: DML (insert, update, delete) and queries inside one all-or-none unit of work.

Every insert/update/delete counts 1 DML plus its rows against `localorg.limits`; values are
converted to their field's stored form (`normalise`); per-object rules come from `rules`.
Queries are run by `query` on the transaction's behalf.
"""

import functools
import re
from contextlib import contextmanager
from datetime import date, datetime

from localorg import ids
from localorg.backend import query
from localorg.backend.fieldtable import FieldTable
from localorg.backend.rules import rules_for
from localorg.conditions import fold
from localorg.errors import DmlError, SalesforceError
from localorg.limits import Usage
from localorg.schema import FieldDef, ObjectDef
from localorg.values import format_datetime, now_iso, parse_datetime

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Field types whose input is converted (the others are text).
_CONVERTED = frozenset(("boolean", "int", "double", "currency", "percent", "datetime", "date"))
MAX_TRIGGER_DEPTH = 16  # Salesforce: "maximum trigger depth exceeded" beyond 16


_canonical = functools.lru_cache(maxsize=1 << 16)(ids.to18)  # the ids a statement names again


def _to18(value) -> str:
    """`ids.to18`, remembered for text (a flow's rows name the same Event, Contact, User)."""
    return _canonical(value) if isinstance(value, str) else ids.to18(value)


@functools.lru_cache(maxsize=4096)
def _datetime_text(value) -> str:
    """A datetime given as text, datetime or date, in its stored form (a statement's rows
    repeat the same few). Equal datetimes in other time zones have the same UTC form."""
    return format_datetime(parse_datetime(value))


def _wrong_type(fdef, value) -> DmlError:
    return DmlError("INVALID_TYPE_ON_FIELD_IN_RECORD",
                    f"{fdef.label}: value not of required type: {value}", [fdef.name])


class Transaction:
    """DML and queries inside one all-or-none transaction, with its governor usage."""

    def __init__(self, org, user_id: str):
        self.org = org
        self.user_id = user_id
        self.usage = Usage()
        self.trigger_depth = 0
        self.flow_log = []  # finished flow interviews: {"flow", "inputs", "outputs"}
        self.after_commit = []  # callables run once this transaction has committed
        self._savepoints = 0
        self._upserting = False
        self._tables = {}  # object name -> FieldTable, for the current DML statement
        self._existing_ids = (None, set())  # (Database.removals when read, ids known to exist)

    @property
    def _existing(self) -> set:
        """Ids known to exist (read by `_look_up_references`); forgotten when a row may have
        gone since (a delete or a rollback)."""
        removals, known = self._existing_ids
        if removals != self.org.db.removals:
            known = set()
            self._existing_ids = (self.org.db.removals, known)
        return known

    def known_to_exist(self, record_ids):
        """Ids a query of this transaction just read: a later statement naming them (a flow's
        new EventRelations name the Contacts it looked up) need not look them up again."""
        self._existing.update(record_ids)

    def _table(self, odef) -> FieldTable:
        table = self._tables.get(odef.name)
        if table is None:
            table = self._tables[odef.name] = FieldTable(odef)
        return table

    # ----- value normalisation ------------------------------------------------------------

    def normalise(self, odef: ObjectDef, fdef: FieldDef, value, check_refs=True):
        """Convert an input value to the stored form of the field's type; raise DmlError."""
        if value is None or (value == "" and fdef.type not in ("boolean",)):
            return None
        t = fdef.type
        if t in ("reference", "id"):
            return self._reference(fdef, value, check_refs)
        if t not in _CONVERTED:
            return self._text(fdef, value if isinstance(value, str) else str(value), check_refs)
        if t == "boolean":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise _wrong_type(fdef, value)
        if t in ("int", "double", "currency", "percent"):
            if isinstance(value, bool):
                raise _wrong_type(fdef, value)
            try:
                num = float(value)
            except (TypeError, ValueError):
                raise _wrong_type(fdef, value) from None
            return int(num) if t == "int" or num.is_integer() else num
        if t == "datetime":
            try:
                if isinstance(value, (str, date)):  # a datetime is a date
                    return _datetime_text(value)
                return format_datetime(parse_datetime(value))
            except (TypeError, ValueError):
                raise _wrong_type(fdef, value) from None
        try:  # "date", the last type of _CONVERTED
            if isinstance(value, date) and not isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, str) and len(value) == 10:
                return date.fromisoformat(value).isoformat()
            return parse_datetime(value).date().isoformat()
        except (TypeError, ValueError):
            raise _wrong_type(fdef, value) from None

    @staticmethod
    def _text(fdef, text, check_refs):
        """A text value checked against the field's length, email form and picklist."""
        t = fdef.type
        if fdef.length and len(text) > fdef.length:
            raise DmlError("STRING_TOO_LONG",
                           f"{fdef.label}: data value too large: {text} "
                           f"(max length={fdef.length})", [fdef.name])
        if t == "email" and check_refs and not _EMAIL.match(text):
            raise DmlError("INVALID_EMAIL_ADDRESS", f"{fdef.label}: invalid email address: {text}",
                           [fdef.name])
        if fdef.restricted_picklist and check_refs and text not in fdef.picklist_values:
            raise DmlError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                           f"{fdef.label}: bad value for restricted picklist field: {text}",
                           [fdef.name])
        return text

    def _reference(self, fdef, value, check):
        existing = self._existing
        try:
            # a stored id is already in its canonical 18-character form
            rid = value if isinstance(value, str) and value in existing else _to18(value)
        except ValueError:
            raise DmlError("MALFORMED_ID", f"{fdef.label}: id value of incorrect type: {value}",
                           [fdef.name]) from None
        if not check:
            return rid
        target = self.org.object_for_id(rid)
        if fdef.reference_to and (target is None or target.name not in fdef.reference_to):
            raise DmlError("FIELD_INTEGRITY_EXCEPTION",
                           f"{fdef.label}: id value of incorrect type: {value}", [fdef.name])
        if rid not in existing and not self.org.db.exists(rid):
            raise DmlError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                           [fdef.name])
        return rid

    # ----- queries (run by `query`) -------------------------------------------------------

    def retrieve(self, sobject, record_id, fields=None):
        """One record by id as stored (all fields, or `fields`), or None. Not a SOQL query."""
        return query.retrieve(self, sobject, record_id, fields)

    def query(self, sobject, fields, where=None, order_by=None, limit=None, offset=None):
        """Records matching `where`, projected on `fields` (dotted paths become nested dicts,
        like the REST API: {"Owner": {"Email": ...}}). Counts 1 SOQL query + returned rows."""
        return query.select(self, sobject, fields, where, order_by, limit, offset)

    def query_many(self, sobject, fields, requests):
        """Several (where, order_by, limit) filters on one object as ONE SOQL query."""
        return query.select_many(self, sobject, fields, requests)

    def count(self, sobject, where=None) -> int:
        """SELECT COUNT() — one query; each counted record is a query row."""
        return query.count(self, sobject, where)

    def mark_used(self, sobject, record_ids, field_name):
        """Stamp LastViewedDate or LastReferencedDate now, as SOQL FOR VIEW / FOR REFERENCE
        does; not DML (no LastModifiedDate, no triggers, no governor DML)."""
        odef = self.org.describe(sobject)
        fdef = odef.field(field_name)
        stamp = now_iso()
        for rid in record_ids:
            found, record = self.org.db.fetch(rid)
            if found == odef.name:
                self.org.db.write(odef.name, {**record, fdef.name: stamp}, new=False)

    # ----- DML ----------------------------------------------------------------------------

    def insert(self, sobject, records, all_or_none=True, upsert=False):
        """Insert records (one DML statement). Returns ids, or per-record results when
        all_or_none=False (failed records are skipped, the others kept). `upsert`: the records
        are the creates of an upsert, where audit fields are never writable."""
        outer, self._upserting = self._upserting, upsert
        try:
            return self._dml("insert", sobject, records, all_or_none)
        finally:
            self._upserting = outer

    def update(self, sobject, records, all_or_none=True):
        """Update records given as dicts with Id (one DML statement)."""
        return self._dml("update", sobject, records, all_or_none)

    def delete(self, sobject, record_ids, all_or_none=True):
        """Delete records by id (one DML statement)."""
        return self._dml("delete", sobject, [{"Id": r} for r in record_ids], all_or_none)

    def system_update(self, sobject, records):
        """Update as the platform does in its own operations (lead conversion): fields the
        describe makes read-only may be set. One DML statement, all or none; update triggers
        run."""
        return self._dml("system_update", sobject, records, True)

    def system_update_one(self, odef, record):
        return self.update_one(odef, record, system=True)

    @contextmanager
    def statement(self):
        """A unit of work inside the transaction, rolled back alone when it raises (one item of
        a call that answers per item, like convertLead)."""
        name, logged = self._savepoint(), len(self.flow_log)
        try:
            yield
        except BaseException:
            self.org.db.rollback_to(name)
            del self.flow_log[logged:]
            raise
        self.org.db.release(name)

    def _dml(self, op, sobject, records, all_or_none):
        """One DML statement. Partial mode (all_or_none=False) behaves like Salesforce: a record
        whose trigger (flow) fails is marked failed and the statement is rolled back and retried
        without it, at most twice; the rest are saved."""
        odef = self.org.describe(sobject)
        records = list(records)
        self.usage.count_dml(len(records))
        for index, record in enumerate(records):
            if not isinstance(record, dict):
                raise DmlError("INVALID_FIELD", f"record {index} is not an object: {record!r}",
                               index=index)
        failed = {}  # index -> error dict
        self._tables.clear()  # the schema may have changed since the last statement
        for attempt in range(3):
            statement, logged = self._savepoint(), len(self.flow_log)
            queued = len(self.after_commit)
            try:
                results = self._write_all(op, odef, records, all_or_none, failed)
            except SalesforceError:  # all or none: the statement leaves nothing behind
                self._undo(statement, logged, queued)
                raise
            done = [(i, r) for i, r in enumerate(results) if isinstance(r, dict)]
            try:
                if done:
                    self._after(op.removeprefix("system_"), odef.name, [r for _, r in done])
            except DmlError as exc:
                index = next((i for i, r in done if r["Id"] == exc.record_id), None)
                self._undo(statement, logged, queued)
                if index is None or all_or_none or attempt == 2:
                    if index is not None:
                        exc.index = index
                    raise
                failed[index] = exc.as_dict()
                continue
            self.org.db.release(statement)
            break
        if all_or_none:
            return [r["Id"] for r in results]
        return [{"id": None, "success": False, "errors": [failed[i]]} if i in failed
                else {"id": r["Id"], "success": True, "errors": []}
                for i, r in enumerate(results)]

    def _undo(self, statement, logged, queued):
        """Roll a statement back: its writes, the flows it logged and the jobs it queued."""
        self.org.db.rollback_to(statement)
        del self.flow_log[logged:]
        del self.after_commit[queued:]

    def _savepoint(self):
        name = f"sp{self._savepoints}"
        self._savepoints += 1
        self.org.db.savepoint(name)
        return name

    def _write_all(self, op, odef, records, all_or_none, failed):
        """Write each record not already failed; returns the stored record, or "failed"."""
        results = []
        write = getattr(self, f"{op}_one")
        if op == "insert":  # the statement's ids, reserved at once
            fresh = iter(self.org.db.next_ids(odef.key_prefix, len(records) - len(failed)))
            write = lambda odef, record: self.insert_one(odef, record, next(fresh))  # noqa: E731
        if op != "delete":
            self._look_up_references(odef, records)
        rules = rules_for(odef.name)
        own_savepoint = not all_or_none and rules.after_write_may_fail
        for index, record in enumerate(records):
            if index in failed:
                results.append("failed")
                continue
            # A record that fails leaves nothing: all or none, the caller rolls the whole
            # statement back; in partial mode its checks fail before it is written, or else
            # (`after_write_may_fail`) its own savepoint undoes it.
            name = (self._savepoint() if own_savepoint and rules.may_fail_after_write(op, record)
                    else None)
            try:
                stored = write(odef, record)
            except SalesforceError as exc:
                if all_or_none:
                    raise DmlError(exc.code, exc.message, exc.fields, index) from exc
                if name is not None:
                    self.org.db.rollback_to(name)
                failed[index] = exc.as_dict()
                results.append("failed")
                continue
            if name is not None:
                self.org.db.release(name)
            results.append(stored)
        return results

    def _look_up_references(self, odef, records):
        """Which ids the statement's reference fields name exist: one query for all rows."""
        is_reference = self._table(odef).is_reference
        keys = {key for record in records for key in record}
        if all(isinstance(key, str) for key in keys):  # each key asked once, not once a row
            named = [key for key in keys if key != "Id" and is_reference(key)]
            given = (record.get(key) for record in records for key in named)
        else:
            given = (value for record in records for key, value in record.items()
                     if isinstance(value, str) and key != "Id" and is_reference(key))
        # as given: a 15-character or odd-case id is looked up again by its row, a malformed
        # one refused there (MALFORMED_ID)
        wanted = {value for value in given if isinstance(value, str)}
        self._existing.update(self.org.db.existing(wanted - self._existing))

    def _after(self, op, sobject, records):
        handlers = self.org.handlers(op)
        if not handlers:
            return
        self.trigger_depth += 1
        try:
            if self.trigger_depth > MAX_TRIGGER_DEPTH:
                raise DmlError("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                               "maximum trigger depth exceeded")
            for handler in handlers:
                handler(self, sobject, [dict(r) for r in records])
        finally:
            self.trigger_depth -= 1

    def _clean(self, odef, record, creating, system=False):
        """Validate field names, writability and values; return {canonical name: value}.
        Fields the describe says are not createable (insert) / updateable (update) are refused
        together, in one INVALID_FIELD_FOR_INSERT_UPDATE naming each; `system` (the platform's
        own writes, e.g. lead conversion) skips that check only."""
        fdefs, refused = self._table(odef).plan(tuple(record), creating, self._upserting)
        if refused and not system:
            raise SalesforceError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(refused)}. Please check the "
                "security settings of this field and verify that it is read/write for your "
                "profile or permission set.", list(refused))
        normalise = self.normalise
        return {f.name: normalise(odef, f, record[key]) for key, f in fdefs if f.name != "Id"}

    def insert_one(self, odef, record, record_id=None):
        """Write one new record (no DML charged: the statement is counted by the caller),
        with `record_id` when the caller reserved it, else a new id."""
        values = self._clean(odef, record, creating=True)
        rules = rules_for(odef.name)
        rules.before_write(self, values, None)
        stamp = now_iso()
        table = self._table(odef)
        full = table.blank.copy()
        full["Id"] = record_id or self.org.db.next_id(odef.key_prefix)
        full["IsDeleted"] = False
        full["CreatedDate"] = full["LastModifiedDate"] = full["SystemModstamp"] = stamp
        full["CreatedById"] = full["LastModifiedById"] = self.user_id
        if table.has_owner:
            full["OwnerId"] = self.user_id
        full.update(values)
        self._check(odef, rules, full, values)
        self.org.db.write(odef.name, full, new=True)
        self._existing.add(full["Id"])  # an Event's own WhoId relation names it next
        rules.after_insert(self, full)
        return full

    def update_one(self, odef, record, system=False):
        current = self._stored(odef, record.get("Id"))
        values = self._clean(odef, record, creating=False, system=system)
        rules = rules_for(odef.name)
        rules.before_write(self, values, current)
        full = {**current, **values}
        full["LastModifiedDate"] = full["SystemModstamp"] = now_iso()
        full["LastModifiedById"] = self.user_id
        self._check(odef, rules, full, values)
        self.org.db.write(odef.name, full, new=False)
        rules.after_update(self, full, current)
        return full

    def delete_one(self, odef, record):
        current = self._stored(odef, record.get("Id"))
        self.org.db.delete(current["Id"])
        rules_for(odef.name).after_delete(self, current)
        return current

    def _stored(self, odef, value):
        """The stored record of an update or delete, by the Id given."""
        if not value:
            raise SalesforceError("MISSING_ARGUMENT", "Id not specified in an update call",
                                  ["Id"])
        try:
            rid = _to18(value)
        except ValueError:
            raise SalesforceError("MALFORMED_ID", f"malformed id {value}", ["Id"]) from None
        sobject, current = self.org.db.fetch(rid)
        if sobject is None:
            raise SalesforceError("ENTITY_IS_DELETED" if rid.startswith(odef.key_prefix)
                                  else "INVALID_CROSS_REFERENCE_KEY",
                                  "entity is deleted" if rid.startswith(odef.key_prefix)
                                  else "invalid cross reference id", ["Id"])
        if sobject != odef.name:
            raise SalesforceError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                                  ["Id"])
        return current

    def _check(self, odef, rules, full, given):
        """Computed fields, required fields, the object's rules and unique custom fields."""
        rules.derive(self, full, given)
        table = self._table(odef)
        missing = [name for name in table.required if full.get(name) is None]
        missing += rules.required(full)
        for name, default in table.booleans:
            if full.get(name) is None:
                full[name] = default
        if missing:
            raise SalesforceError("REQUIRED_FIELD_MISSING",
                                  f"Required fields are missing: [{', '.join(missing)}]", missing)
        rules.validate(self, full)
        for fdef in table.unique:
            value = full.get(fdef.name)
            if value is None:
                continue
            if isinstance(value, str) and self.org.db.indexable(odef.name, fdef.name):
                same = self.org.db.ids_matching(odef.name, fdef.name, fold(value))
            else:
                same = [r["Id"] for r in self.org.db.rows(odef.name)
                        if fold(r.get(fdef.name)) == fold(value)]
            dup = next((rid for rid in same if rid != full["Id"]), None)
            if dup is not None:
                raise SalesforceError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {fdef.name} duplicates value on record with "
                    f"id: {dup}", [fdef.name])
