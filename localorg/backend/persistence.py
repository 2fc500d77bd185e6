"""SQLite storage of one local org: records, meta values, ids, custom schema, flows, components.

One table of records (id, sobject, JSON data) rather than a table per object, so custom fields
deployed later need no ALTER TABLE. Only this module writes SQL; `Database.lock` (re-entrant) is
held by a transaction for its whole life and by every read of the org.

Lookups by value (`matching_rows`) use an index per object and field, made on first use, on
`fold(json_extract(data, '$.Field'))`: `fold` is a function this module registers (Python's
`str.lower`, SOQL's case-insensitive text compare as the query engine applies it), so a
connection that has not registered it cannot write to `records`.
"""

import functools
import json
import re
import sqlite3
import threading

from localorg import ids
from localorg.values import now_iso

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY, sobject TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_sobject ON records (sobject);
CREATE INDEX IF NOT EXISTS records_relation_event ON records (json_extract(data, '$.EventId'))
    WHERE sobject = 'EventRelation';
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS custom_objects (
    name TEXT PRIMARY KEY, key_prefix TEXT NOT NULL, label TEXT, plural TEXT);
CREATE TABLE IF NOT EXISTS custom_fields (
    sobject TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (sobject, name));
CREATE TABLE IF NOT EXISTS components (
    kind TEXT NOT NULL, full_name TEXT NOT NULL, file_name TEXT NOT NULL, body BLOB NOT NULL,
    last_modified TEXT NOT NULL, PRIMARY KEY (kind, full_name));
CREATE TABLE IF NOT EXISTS flows (
    name TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, label TEXT,
    process_type TEXT, xml BLOB NOT NULL, PRIMARY KEY (name, version));
"""


_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_CHUNK = 500  # values per IN (...) list


def fold(value):
    """The index key of a stored value: text lower-cased, as `conditions.fold` compares it."""
    return value.lower() if isinstance(value, str) else value


class Database:
    """The SQL of one org file (or ":memory:")."""

    def __init__(self, path):
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.create_function("fold", 1, fold, deterministic=True)
        self.lock = threading.RLock()
        self._indexed = set()  # (sobject, field) with an index made by this connection
        self.removals = 0  # counts deletes and rollbacks: what may make a record disappear
        # Read through by `value` and `relation_keys` within one transaction (`forget`), kept
        # exact by `write` and dropped by every delete and rollback.
        self._values = {}  # record id -> {field: value}
        self._relations = {}  # Event id -> [[Id, RelationId, IsParent]]
        self._seq = None  # the id sequence's value, as `next_ids` last reserved it
        self._seq_unsaved = False  # reserved inside savepoints, written when the outer ends
        self._open = []  # names of the open savepoints, outermost first
        with self.lock:
            self._db.executescript(_SCHEMA)

    # ----- transactions and savepoints ---------------------------------------------------

    def begin(self):
        self._db.execute("BEGIN")

    def commit(self):
        self._db.execute("COMMIT")

    def rollback(self):
        self._db.execute("ROLLBACK")
        self._open.clear()  # a ROLLBACK ends every savepoint
        self._seq_unsaved = False
        self._removed()
        self._indexed.clear()  # an index made inside the transaction is gone

    def savepoint(self, name):
        self._db.execute(f"SAVEPOINT {name}")
        self._open.append(name)

    def release(self, name):
        if self._seq_unsaved and self._open[:1] == [name]:  # the outer one: its ids are kept
            self._save_seq()
        self._db.execute(f"RELEASE {name}")
        self._end(name)

    def rollback_to(self, name):
        """Undo everything since the savepoint and end it. Ids reserved since stay reserved
        until the outer savepoint is undone too (an id is never given twice)."""
        self._db.execute(f"ROLLBACK TO {name}")
        self._db.execute(f"RELEASE {name}")
        self._end(name)
        if not self._open:
            self._seq_unsaved = False
        self._removed()
        self._indexed.clear()

    def _end(self, name):
        """Forget `name` and the savepoints opened inside it, as SQLite ends them (one left
        open by an exception that skipped its own rollback included)."""
        del self._open[len(self._open) - 1 - self._open[::-1].index(name):]

    def _removed(self):
        self.removals += 1
        self.forget()

    def forget(self):
        """Drop what this connection remembered (`value`, `relation_keys`, the id sequence)
        at the start of a transaction: another connection may have written since."""
        self._values.clear()
        self._relations.clear()
        if not self._seq_unsaved:
            self._seq = None

    # ----- meta values and ids -----------------------------------------------------------

    def meta(self, key, default=None):
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, key, value):
        if key == "seq":
            self._seq, self._seq_unsaved = None, False
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                         (key, json.dumps(value)))

    def next_id(self, key_prefix):
        return self.next_ids(key_prefix, 1)[0]

    def next_ids(self, key_prefix, count):
        """`count` new ids, reserved by one write of the sequence."""
        seq = self._seq if self._seq is not None else self.meta("seq", 1)
        self._seq = seq + count
        self._seq_unsaved = True
        if not self._open:
            self._save_seq()
        return [ids.make_id(key_prefix, n) for n in range(seq + 1, seq + count + 1)]

    def _save_seq(self):
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?)",
                         (json.dumps(self._seq),))
        self._seq_unsaved = False

    def exists(self, record_id) -> bool:
        return self._db.execute("SELECT 1 FROM records WHERE id = ?",
                                (record_id,)).fetchone() is not None

    def existing(self, record_ids) -> set:
        """Those of `record_ids` that are stored, read by one query per 500."""
        record_ids = list(record_ids)
        found = set()
        for start in range(0, len(record_ids), _CHUNK):
            part = record_ids[start:start + _CHUNK]
            found.update(r for (r,) in self._db.execute(
                f"SELECT id FROM records WHERE id IN ({', '.join('?' * len(part))})", part))
        return found

    # ----- records -----------------------------------------------------------------------

    def write(self, sobject, record, new):
        sql = ("INSERT INTO records (id, sobject, data) VALUES (?, ?, ?)" if new else
               "UPDATE records SET sobject = ?, data = ? WHERE id = ?")
        args = ((record["Id"], sobject, json.dumps(record)) if new else
                (sobject, json.dumps(record), record["Id"]))
        self._db.execute(sql, args)
        self._values.pop(record["Id"], None)
        if sobject == "Event" and new:
            self._relations[record["Id"]] = []  # a new Event has no relations yet
            # as `value` reads it from the JSON: a boolean as 0 or 1
            is_child = record.get("IsChild")
            self._values[record["Id"]] = {
                "IsChild": int(is_child) if isinstance(is_child, bool) else is_child}
        if sobject == "EventRelation":
            known = self._relations.get(record.get("EventId")) if new else None
            if known is not None:  # a new row comes last in storage order
                known.append((record["Id"], record.get("RelationId"), record.get("IsParent")))
            elif not new:
                self._relations.clear()  # an update may move a relation to another Event

    def delete(self, record_id):
        self._removed()
        self._db.execute("DELETE FROM records WHERE id = ?", (record_id,))

    def fetch(self, record_id):
        """(sobject, record) or (None, None)."""
        row = self._db.execute("SELECT sobject, data FROM records WHERE id = ?",
                               (record_id,)).fetchone()
        return (row[0], json.loads(row[1])) if row else (None, None)

    def rows(self, sobject):
        return [json.loads(d) for (d,) in self._db.execute(
            "SELECT data FROM records WHERE sobject = ? ORDER BY rowid", (sobject,))]

    @staticmethod
    @functools.lru_cache(maxsize=1024)  # asked for every row a bulkified query filters
    def indexable(sobject, field) -> bool:
        """Whether `matching_rows` can look this object's field up by an index."""
        return bool(_NAME.match(sobject) and _NAME.match(field))

    def matching_rows(self, sobject, field, keys, fields=None) -> list:
        """[(rowid, record)] of `sobject` whose `field`, folded, is one of `keys` (folded
        strings), in storage order; by an index on the field, made here on first use.
        With `fields` (names), each record has those fields only, read by SQLite from the
        stored JSON (a record's other fields are not decoded)."""
        if fields is None or not all(_NAME.match(f) for f in fields):
            found = self._matching(sobject, field, keys, "rowid, data")
            found.sort()
            return [(rowid, json.loads(data)) for rowid, data in found]
        fields = list(fields) if len(fields) > 1 else [*fields, *fields]  # 2+ paths: an array
        paths = ", ".join(f"'$.\"{f}\"'" for f in fields)
        found = self._matching(sobject, field, keys, f"rowid, json_extract(data, {paths})")
        found.sort()
        return [(rowid, dict(zip(fields, json.loads(values), strict=True)))
                for rowid, values in found]

    def ids_matching(self, sobject, field, key) -> list:
        """Ids of the records of `sobject` whose `field`, folded, is `key`, in storage order
        (nothing decoded)."""
        return [rid for _, rid in sorted(self._matching(sobject, field, [key], "rowid, id"))]

    def _matching(self, sobject, field, keys, columns) -> list:
        if not self.indexable(sobject, field):
            raise ValueError(f"not an indexable object and field: {sobject}.{field}")
        expr = f"fold(json_extract(data, '$.\"{field}\"'))"
        index = f'"records_{sobject}_{field}"'
        if (sobject, field) not in self._indexed:
            self._db.execute(f"CREATE INDEX IF NOT EXISTS {index} "
                             f"ON records ({expr}) WHERE sobject = '{sobject}'")
            self._indexed.add((sobject, field))
        keys = list(dict.fromkeys(keys))
        found = []
        for start in range(0, len(keys), _CHUNK):
            part = keys[start:start + _CHUNK]
            # INDEXED BY: without statistics SQLite prefers the sobject index for a long IN
            # list and calls `fold` on every row of the object (docs/performance.md).
            found += self._db.execute(
                f"SELECT {columns} FROM records INDEXED BY {index} WHERE sobject = "
                f"'{sobject}' AND {expr} IN ({', '.join('?' * len(part))})", part).fetchall()
        return found

    def relation_keys(self, event_id) -> list:
        """[(Id, RelationId, IsParent)] of the EventRelations of one Event, in storage order,
        read without decoding the records (the checks of every inserted relation)."""
        known = self._relations.get(event_id)
        if known is None:
            known = self._relations[event_id] = self._db.execute(
                "SELECT id, json_extract(data, '$.RelationId'), json_extract(data, "
                "'$.IsParent') FROM records WHERE sobject = 'EventRelation' AND "
                "json_extract(data, '$.EventId') = ? ORDER BY rowid", (event_id,)).fetchall()
        return list(known)

    def value(self, record_id, field):
        """One field of a stored record (None when the record or the field is absent)."""
        known = self._values.setdefault(record_id, {})
        if field not in known:
            if not _NAME.match(field):
                raise ValueError(f"not a field name: {field}")
            row = self._db.execute(f"SELECT json_extract(data, '$.{field}') FROM records "
                                   "WHERE id = ?", (record_id,)).fetchone()
            known[field] = row[0] if row else None
        return known[field]

    def relations_of(self, event_id):
        """EventRelations of one Event (indexed: validation runs once per inserted relation)."""
        return [json.loads(d) for (d,) in self._db.execute(
            "SELECT data FROM records WHERE sobject = 'EventRelation' "
            "AND json_extract(data, '$.EventId') = ? ORDER BY rowid", (event_id,))]

    # ----- custom schema -----------------------------------------------------------------

    def custom_objects(self):
        """[(name, key_prefix, label, plural)] in creation order."""
        return self._db.execute(
            "SELECT name, key_prefix, label, plural FROM custom_objects ORDER BY rowid").fetchall()

    def custom_fields(self):
        """[(sobject, field describe dict)] in creation order."""
        return [(sobject, json.loads(data)) for sobject, data in self._db.execute(
            "SELECT sobject, data FROM custom_fields ORDER BY rowid")]

    def save_custom_object(self, name, key_prefix, label, plural):
        self._db.execute(
            "INSERT INTO custom_objects (name, key_prefix, label, plural) VALUES (?,?,?,?)",
            (name, key_prefix, label, plural))

    def save_custom_field(self, sobject, name, describe: dict):
        self._db.execute(
            "INSERT OR REPLACE INTO custom_fields (sobject, name, data) VALUES (?, ?, ?)",
            (sobject, name, json.dumps(describe)))

    def delete_custom_field(self, sobject, name):
        self._db.execute("DELETE FROM custom_fields WHERE sobject = ? AND name = ?",
                         (sobject, name))

    # ----- flow versions -----------------------------------------------------------------

    def add_flow_version(self, name, label, process_type, xml) -> int:
        """Store a new Draft version; return its number."""
        with self.lock:
            latest = self._db.execute("SELECT MAX(version) FROM flows WHERE name = ?",
                                      (name,)).fetchone()[0]
            version = (latest or 0) + 1
            self._db.execute(
                "INSERT INTO flows (name, version, status, label, process_type, xml) "
                "VALUES (?, ?, 'Draft', ?, ?, ?)", (name, version, label, process_type, xml))
            return version

    def flow_versions(self, name) -> list:
        with self.lock:
            return [v for (v,) in self._db.execute(
                "SELECT version FROM flows WHERE name = ?", (name,))]

    def set_active_flow(self, name, version):
        """The active version becomes Obsolete; `version` (unless None) becomes Active."""
        with self.lock:
            self._db.execute(
                "UPDATE flows SET status = 'Obsolete' WHERE name = ? AND status = 'Active'",
                (name,))
            if version is not None:
                self._db.execute(
                    "UPDATE flows SET status = 'Active' WHERE name = ? AND version = ?",
                    (name, version))

    def delete_flow(self, name: str) -> None:
        with self.lock:
            self._db.execute("DELETE FROM flows WHERE name = ?", (name,))

    def flows(self) -> list:
        with self.lock:
            return self._db.execute(
                "SELECT name, version, status, label, process_type FROM flows "
                "ORDER BY name, version").fetchall()

    def flow_xml(self, name, version):
        """The version's XML; version None: the active one, else the latest. None if absent."""
        with self.lock:
            if version is None:
                row = self._db.execute(
                    "SELECT xml FROM flows WHERE name = ? ORDER BY status = 'Active' DESC, "
                    "version DESC", (name,)).fetchone()
            else:
                row = self._db.execute("SELECT xml FROM flows WHERE name = ? AND version = ?",
                                       (name, version)).fetchone()
            return bytes(row[0]) if row else None

    def active_flows(self) -> list:
        with self.lock:
            return [(n, v, bytes(x)) for n, v, x in self._db.execute(
                "SELECT name, version, xml FROM flows WHERE status = 'Active' ORDER BY name")]

    # ----- other metadata components -----------------------------------------------------

    def save_component(self, kind, full_name, file_name, body: bytes):
        with self.lock:
            self._db.execute(
                "INSERT OR REPLACE INTO components (kind, full_name, file_name, body, "
                "last_modified) VALUES (?, ?, ?, ?, ?)",
                (kind, full_name, file_name, body, now_iso()))

    def delete_component(self, kind, full_name):
        with self.lock:
            self._db.execute("DELETE FROM components WHERE kind = ? AND full_name = ?",
                             (kind, full_name))

    def components(self, kind, full_name=None) -> list:
        """[{"kind", "full_name", "file_name", "body", "last_modified"}], by full name."""
        sql = ("SELECT kind, full_name, file_name, body, last_modified FROM components "
               "WHERE kind = ?")
        args = (kind,)
        if full_name is not None:
            sql, args = sql + " AND full_name = ?", (kind, full_name)
        with self.lock:
            rows = self._db.execute(sql + " ORDER BY full_name", args).fetchall()
        return [{"kind": k, "full_name": n, "file_name": f, "body": bytes(b),
                 "last_modified": m} for k, n, f, b, m in rows]
