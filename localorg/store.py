"""SQLite record store of the embedded local org.

Public API (the HTTP server, the flow runtime and the scenario runner use only this):

    org = Org(":memory:")                 # or Org("path/org.sqlite3"); reopening keeps data/schema
    org = Org(path, calendly_version=None)  # an org without the Calendly package
    org = Org(path, run_flows=False)      # active record-triggered flows do not run on insert
    org.org_id, org.default_user_id       # Organization id; the active System Administrator
                                          # (Email admin@localorg.test) present in every fresh org
    org.installed_packages()              # [{"namespace": "Calendly", "version": "2.5", ...}]

    with org.transaction(user_id=None) as txn:   # all-or-none: any exception rolls back every
        ids = txn.insert("Contact", [{...}, ...])  # write, flows triggered inside included
        txn.update("Contact", [{"Id": ..., "Email": ...}])
        txn.delete("Contact", [id1, id2])
        rows = txn.query("Contact", ["Id", "Email", "Owner.Email"],
                         where=And(Cmp("Email", "IN", [...]), Cmp("IsDeleted", "=", False)),
                         order_by=[("LastModifiedDate", True, True)],  # (field, desc, nulls_last)
                         limit=10, offset=None)
        n = txn.count("Contact", where=...)      # SELECT COUNT() — one query
        rec = txn.retrieve("Contact", id, fields=None)   # one record or None (no limit cost)
        txn.usage.as_dict()               # {"soql", "query_rows", "dml", "dml_rows"}
        results = txn.insert(..., all_or_none=False)  # per record: {"id", "success", "errors"};
                                  # a record whose after-save flow fails is failed alone
        txn.usage.header()                # "soql=3/100; query_rows=…; dml=…; dml_rows=…"

    org.describe("Contact") -> schema.ObjectDef  (fields: FieldDef with name, label, type, length,
        nillable, reference_to, relationship_name, createable, updateable, external_id, unique,
        default_value, picklist_values, restricted_picklist, custom); org.sobjects() -> [ObjectDef]
    org.define_object("Foo__c", label=..., plural=...) -> ObjectDef   # idempotent
    org.add_custom_field("Foo__c", FieldDef | field-meta XML bytes) -> FieldDef  # idempotent
    org.install_source(folder)            # objects/ of a source-format folder

    org.deploy_flow(name, xml_bytes) -> version number   # Metadata API deploy of one Flow
    org.activate_flow(name, version)      # version=None deactivates
    org.flows() -> [{"name", "label", "process_type", "active_version", "latest_version",
                     "versions": [{"version", "status"}]}]
    org.flow_xml(name, version=None) -> bytes  # None: the version that runs (active, else latest)
    org.save_component(kind, full_name, file_name, body)   # other deployed metadata (Layout…)
    org.component(kind, full_name) -> {"kind", "full_name", "file_name", "body",
                                       "last_modified"} | None;  org.components(kind) -> [...]
    org.on_after_insert(handler)          # handler(txn, sobject, records) after each insert
    org.on_after_update(handler)          # … after each update
    org.on_after_delete(handler)          # … after each delete (records as they were)
    txn.query_many(sobject, fields, [(where, order_by, limit), …])  # one SOQL, many filters
    txn.flow_log                          # flow interviews finished in this transaction
    txn.after_commit.append(job)          # job() runs after this transaction commits

Every query counts 1 SOQL plus its rows, every insert/update/delete 1 DML plus its rows, against
the governor limits in `localorg.limits` (a breach raises `LimitException` and rolls back).
Errors are `errors.SalesforceError` / `errors.DmlError` with Salesforce's error codes.

Storage: one SQLite table of records (id, sobject, JSON data) rather than a table per object, so
custom fields deployed later need no ALTER TABLE; filtering runs in Python with SOQL's semantics
(case-insensitive text, null rules, polymorphic parent fields), which SQLite's collation can't
express. One writer at a time: a re-entrant lock is held for the life of a transaction, and the
org's read methods take it too.
"""

import functools
import json
import re
import sqlite3
import threading
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from lxml import etree

from localorg import ids
from localorg.conditions import evaluate, fields_of, fold
from localorg.errors import DmlError, SalesforceError
from localorg.limits import Usage
from localorg.schema import (
    MD_NS,
    FieldDef,
    ObjectDef,
    field_from_xml,
    new_custom_object,
    read_source_objects,
    standard_objects,
)

ROOT = Path(__file__).resolve().parents[1]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CALENDLY_STANDIN = ROOT / "unpackaged" / "standin" / "calendly"
ADMIN_EMAIL = "admin@localorg.test"
MAX_TRIGGER_DEPTH = 16  # Salesforce: "maximum trigger depth exceeded" beyond 16
MAX_EVENT_CONTACTS = 50  # Shared Activities: up to 50 Contacts related to one Event

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


def now_iso() -> str:
    return format_datetime(datetime.now(UTC))


def format_datetime(value: datetime) -> str:
    """Salesforce's REST datetime form: 2026-01-02T09:30:00.000+0000 (UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(value) -> datetime:
    """Parse an ISO-8601 datetime (Z, +00:00, +0000, with or without milliseconds)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _locked(method):
    """Run an Org method under the org's lock: reads never see another thread's open transaction."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class Org:
    """One local org: schema, records and flow definitions in a SQLite database."""

    def __init__(self, path=":memory:", calendly_version="2.5", calendly_dir=None,
                 run_flows=True):
        self.path = str(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._handlers = {"insert": [], "update": [], "delete": []}
        self._objects = standard_objects()
        with self._lock:
            self._db.executescript(_SCHEMA)
            self._load_custom_schema()
            if self._meta("org_id") is None:
                self._initialise(calendly_version, calendly_dir)
        self.org_id = self._meta("org_id")
        self.default_user_id = self._meta("default_user_id")
        self.flow_trigger = None  # FlowTrigger: .async_paths.runs lists asynchronous paths run
        if run_flows:
            from localorg.flow.trigger import FlowTrigger

            self.flow_trigger = FlowTrigger(self).install()

    # ----- set-up -------------------------------------------------------------------------

    def _meta(self, key, default=None):
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def _set_meta(self, key, value):
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                         (key, json.dumps(value)))

    def _initialise(self, calendly_version, calendly_dir):
        self._db.execute("BEGIN")
        try:
            org_id = ids.make_id("00D", 1)
            profile_id = ids.make_id("00e", 1)
            user_id = ids.make_id("005", 1)
            self._set_meta("org_id", org_id)
            self._set_meta("default_user_id", user_id)
            self._set_meta("packages", [])
            stamp = now_iso()
            audit = {"CreatedDate": stamp, "LastModifiedDate": stamp, "SystemModstamp": stamp,
                     "CreatedById": user_id, "LastModifiedById": user_id, "IsDeleted": False}
            seed = [
                ("Organization", org_id, {"Name": "Local Org", "OrganizationType":
                                          "Developer Edition", "IsSandbox": False,
                                          "NamespacePrefix": None, "InstanceName": "LOCAL",
                                          "TrialExpirationDate": None,
                                          "LanguageLocaleKey": "en_US",
                                          "TimeZoneSidKey": "GMT"}),
                ("Profile", profile_id, {"Name": "System Administrator"}),
                ("User", user_id, {"FirstName": "Local", "LastName": "Admin",
                                   "Name": "Local Admin", "Email": ADMIN_EMAIL,
                                   "Username": ADMIN_EMAIL, "Alias": "ladmin", "IsActive": True,
                                   "ProfileId": profile_id, "TimeZoneSidKey": "GMT",
                                   "LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US",
                                   "EmailEncodingKey": "UTF-8"}),
            ]
            for sobject, rid, data in seed:
                self._write(sobject, {"Id": rid, **audit, **data}, new=True)
            self._set_meta("seq", 1)
            if calendly_version is not None:
                self.install_source(calendly_dir or CALENDLY_STANDIN)
                self._set_meta("packages", [{
                    "namespace": "Calendly", "name": "Calendly",
                    "version": str(calendly_version),
                }])
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _load_custom_schema(self):
        for name, prefix, label, plural in self._db.execute(
            "SELECT name, key_prefix, label, plural FROM custom_objects ORDER BY rowid"
        ):
            self._objects[name] = new_custom_object(name, prefix, label or "", plural or "")
        for sobject, data in self._db.execute(
            "SELECT sobject, data FROM custom_fields ORDER BY rowid"
        ):
            self._objects[sobject].add(FieldDef(**json.loads(data)))

    @_locked
    def installed_packages(self) -> list:
        return self._meta("packages", [])

    # ----- schema -------------------------------------------------------------------------

    def describe(self, sobject: str) -> ObjectDef:
        """The object's metadata; INVALID_TYPE when the org has no such object."""
        for name, odef in self._objects.items():
            if name.lower() == str(sobject).lower():
                return odef
        raise SalesforceError(
            "INVALID_TYPE",
            f"sObject type '{sobject}' is not supported. If you are attempting to use a custom "
            "object, be sure to append the '__c' after the entity name. Please reference your "
            "WSDL or the describe call for the appropriate names.",
        )

    def sobjects(self) -> list:
        return list(self._objects.values())

    @_locked
    def object_for_id(self, record_id: str) -> ObjectDef | None:
        for odef in self._objects.values():
            if record_id.startswith(odef.key_prefix):
                return odef
        return None

    def define_object(self, name: str, label: str = "", plural: str = "") -> ObjectDef:
        """Create a custom object (or return the existing one): Id, Name, OwnerId, audit fields."""
        with self._lock:
            existing = self._objects.get(name)
            if existing is not None:
                return existing
            n_custom = sum(1 for o in self._objects.values() if o.custom)
            odef = new_custom_object(name, ids.custom_prefix(n_custom), label, plural)
            self._db.execute(
                "INSERT INTO custom_objects (name, key_prefix, label, plural) VALUES (?,?,?,?)",
                (name, odef.key_prefix, odef.label, odef.label_plural),
            )
            self._objects[name] = odef
            return odef

    def add_custom_field(self, sobject: str, fdef) -> FieldDef:
        """Add or redefine a custom field; `fdef` is a FieldDef or CustomField XML bytes."""
        if not isinstance(fdef, FieldDef):
            fdef = field_from_xml(fdef)
        if not fdef.name.endswith("__c"):
            raise SalesforceError("FIELD_INTEGRITY_EXCEPTION",
                                  f"Custom field names end with __c: '{fdef.name}'")
        fdef.custom = True
        with self._lock:
            odef = self.describe(sobject)
            odef.add(fdef)
            self._db.execute(
                "INSERT OR REPLACE INTO custom_fields (sobject, name, data) VALUES (?, ?, ?)",
                (odef.name, fdef.name, json.dumps(fdef.describe())),
            )
            return fdef

    def install_source(self, folder) -> None:
        """Define the custom objects and fields of a source-format folder (objects/…)."""
        for item in read_source_objects(Path(folder)):
            if item[0] == "object":
                _, name, label, plural = item
                if name.endswith("__c"):
                    self.define_object(name, label, plural)
            else:
                self.add_custom_field(item[1], item[2])

    # ----- flows --------------------------------------------------------------------------

    def deploy_flow(self, name: str, xml: bytes) -> int:
        """Store a Flow as Metadata API deploy does (API 44.0+); return its version number.

        Every deploy adds a new version, as on Salesforce (callers that want re-runs to write
        nothing compare before deploying). The Flow's <status>Active</status> activates the new
        version; any other status leaves the active version as it was.
        """
        if isinstance(xml, str):
            xml = xml.encode()
        try:
            root = etree.fromstring(xml)
        except etree.XMLSyntaxError as exc:
            raise SalesforceError("INVALID_XML", f"Flow {name}: {exc}") from None
        if etree.QName(root).localname != "Flow":
            raise SalesforceError("INVALID_XML", f"Flow {name}: root element must be <Flow>")

        def text(tag):
            el = root.find(f"{{{MD_NS}}}{tag}")
            return el.text if el is not None else None

        status = text("status") or "Draft"
        with self._lock:
            latest = self._db.execute("SELECT MAX(version) FROM flows WHERE name = ?",
                                      (name,)).fetchone()[0]
            version = (latest or 0) + 1
            self._db.execute(
                "INSERT INTO flows (name, version, status, label, process_type, xml) "
                "VALUES (?, ?, 'Draft', ?, ?, ?)",
                (name, version, text("label"), text("processType"), xml),
            )
            if status == "Active":
                self.activate_flow(name, version)
            return version

    def activate_flow(self, name: str, version: int | None) -> None:
        """Activate `version` (the previously active one becomes Obsolete); None deactivates."""
        with self._lock:
            known = [v for (v,) in self._db.execute(
                "SELECT version FROM flows WHERE name = ?", (name,))]
            if not known:
                raise SalesforceError("NOT_FOUND", f"No flow named {name} in this org")
            if version is not None and version not in known:
                raise SalesforceError(
                    "NOT_FOUND", f"Flow {name} has no version {version} (versions: {known})")
            self._db.execute(
                "UPDATE flows SET status = 'Obsolete' WHERE name = ? AND status = 'Active'",
                (name,))
            if version is not None:
                self._db.execute(
                    "UPDATE flows SET status = 'Active' WHERE name = ? AND version = ?",
                    (name, version))

    @_locked
    def flows(self) -> list:
        out = {}
        for name, version, status, label, ptype in self._db.execute(
            "SELECT name, version, status, label, process_type FROM flows ORDER BY name, version"
        ):
            item = out.setdefault(name, {"name": name, "versions": [], "active_version": None})
            item.update(label=label, process_type=ptype, latest_version=version)
            item["versions"].append({"version": version, "status": status})
            if status == "Active":
                item["active_version"] = version
        return list(out.values())

    @_locked
    def flow_xml(self, name: str, version: int | None = None) -> bytes:
        """A version's XML; version=None: the active version, else the latest."""
        if version is None:
            row = self._db.execute(
                "SELECT xml FROM flows WHERE name = ? ORDER BY status = 'Active' DESC, "
                "version DESC", (name,)).fetchone()
        else:
            row = self._db.execute("SELECT xml FROM flows WHERE name = ? AND version = ?",
                                   (name, version)).fetchone()
        if row is None:
            raise SalesforceError("NOT_FOUND", f"No flow {name} version {version or 'any'}")
        return bytes(row[0])

    @_locked
    def active_flows(self) -> list:
        """[(name, version, xml)] of every active flow version."""
        return [(n, v, bytes(x)) for n, v, x in self._db.execute(
            "SELECT name, version, xml FROM flows WHERE status = 'Active' ORDER BY name")]

    # ----- other metadata components -----------------------------------------------------

    def save_component(self, kind: str, full_name: str, file_name: str, body: bytes) -> None:
        """Store a deployed metadata component (Layout, PermissionSet, …) as its source file."""
        if isinstance(body, str):
            body = body.encode()
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO components (kind, full_name, file_name, body, "
                "last_modified) VALUES (?, ?, ?, ?, ?)",
                (kind, full_name, file_name, body, now_iso()))

    @_locked
    def component(self, kind: str, full_name: str) -> dict | None:
        """{"kind", "full_name", "file_name", "body", "last_modified"} or None."""
        row = self._db.execute(
            "SELECT kind, full_name, file_name, body, last_modified FROM components "
            "WHERE kind = ? AND full_name = ?", (kind, full_name)).fetchone()
        return _component(row) if row else None

    @_locked
    def components(self, kind: str) -> list:
        return [_component(row) for row in self._db.execute(
            "SELECT kind, full_name, file_name, body, last_modified FROM components "
            "WHERE kind = ? ORDER BY full_name", (kind,))]

    # ----- transactions -------------------------------------------------------------------

    def on_after_insert(self, handler) -> None:
        """Register handler(txn, sobject, records) to run after each insert, same transaction."""
        self._handlers["insert"].append(handler)

    def on_after_update(self, handler) -> None:
        """Register handler(txn, sobject, records) to run after each update, same transaction."""
        self._handlers["update"].append(handler)

    def on_after_delete(self, handler) -> None:
        """Register handler(txn, sobject, records) to run after each delete, same transaction."""
        self._handlers["delete"].append(handler)

    @contextmanager
    def transaction(self, user_id=None):
        """All-or-none unit of work; see the module docstring."""
        with self._lock:
            if getattr(self._local, "txn", None) is not None:
                raise RuntimeError("a transaction is already open on this thread; use it")
            txn = Transaction(self, user_id or self.default_user_id)
            self._local.txn = txn
            self._db.execute("SAVEPOINT txn")
            try:
                yield txn
            except BaseException:
                self._db.execute("ROLLBACK TO txn")
                self._db.execute("RELEASE txn")
                raise
            else:
                self._db.execute("RELEASE txn")
            finally:
                self._local.txn = None
        for job in txn.after_commit:  # committed: e.g. asynchronous flow paths, each its own txn
            job()

    # ----- raw storage --------------------------------------------------------------------

    def _write(self, sobject, record, new):
        sql = ("INSERT INTO records (id, sobject, data) VALUES (?, ?, ?)" if new else
               "UPDATE records SET sobject = ?, data = ? WHERE id = ?")
        args = ((record["Id"], sobject, json.dumps(record)) if new else
                (sobject, json.dumps(record), record["Id"]))
        self._db.execute(sql, args)

    def _fetch(self, record_id):
        row = self._db.execute("SELECT sobject, data FROM records WHERE id = ?",
                               (record_id,)).fetchone()
        return (row[0], json.loads(row[1])) if row else (None, None)

    def _rows(self, sobject):
        return [json.loads(d) for (d,) in self._db.execute(
            "SELECT data FROM records WHERE sobject = ? ORDER BY rowid", (sobject,))]

    def _relations_of(self, event_id):
        """EventRelations of one Event (indexed: validation runs once per inserted relation)."""
        return [json.loads(d) for (d,) in self._db.execute(
            "SELECT data FROM records WHERE sobject = 'EventRelation' "
            "AND json_extract(data, '$.EventId') = ? ORDER BY rowid", (event_id,))]

    def _next_id(self, odef):
        seq = self._meta("seq", 1) + 1
        self._set_meta("seq", seq)
        return ids.make_id(odef.key_prefix, seq)


def _component(row) -> dict:
    kind, full_name, file_name, body, last_modified = row
    return {"kind": kind, "full_name": full_name, "file_name": file_name, "body": bytes(body),
            "last_modified": last_modified}


class Transaction:
    """DML and queries inside one all-or-none transaction, with its governor usage."""

    def __init__(self, org: Org, user_id: str):
        self.org = org
        self.user_id = user_id
        self.usage = Usage()
        self.trigger_depth = 0
        self.flow_log = []  # finished flow interviews: {"flow", "inputs", "outputs"}
        self.after_commit = []  # callables run once this transaction has committed
        self._savepoints = 0

    # ----- value normalisation ------------------------------------------------------------

    def normalise(self, odef: ObjectDef, fdef: FieldDef, value, check_refs=True):
        """Convert an input value to the stored form of the field's type; raise DmlError."""
        if value is None or (value == "" and fdef.type not in ("boolean",)):
            return None
        t = fdef.type
        bad = DmlError("INVALID_TYPE_ON_FIELD_IN_RECORD",
                       f"{fdef.label}: value not of required type: {value}", [fdef.name])
        if t == "boolean":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise bad
        if t in ("int", "double", "currency", "percent"):
            if isinstance(value, bool):
                raise bad
            try:
                num = float(value)
            except (TypeError, ValueError):
                raise bad from None
            return int(num) if t == "int" or num.is_integer() else num
        if t == "datetime":
            try:
                return format_datetime(parse_datetime(value))
            except (TypeError, ValueError):
                raise bad from None
        if t == "date":
            try:
                if isinstance(value, date) and not isinstance(value, datetime):
                    return value.isoformat()
                if isinstance(value, str) and len(value) == 10:
                    return date.fromisoformat(value).isoformat()
                return parse_datetime(value).date().isoformat()
            except (TypeError, ValueError):
                raise bad from None
        if t in ("reference", "id"):
            return self._reference(fdef, value, check_refs)
        text = value if isinstance(value, str) else str(value)
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
        try:
            rid = ids.to18(value)
        except ValueError:
            raise DmlError("MALFORMED_ID", f"{fdef.label}: id value of incorrect type: {value}",
                           [fdef.name]) from None
        if not check:
            return rid
        target = self.org.object_for_id(rid)
        if fdef.reference_to and (target is None or target.name not in fdef.reference_to):
            raise DmlError("FIELD_INTEGRITY_EXCEPTION",
                           f"{fdef.label}: id value of incorrect type: {value}", [fdef.name])
        if self.org._fetch(rid)[1] is None:
            raise DmlError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                           [fdef.name])
        return rid

    # ----- DML ----------------------------------------------------------------------------

    def insert(self, sobject, records, all_or_none=True):
        """Insert records (one DML statement). Returns ids, or per-record results when
        all_or_none=False (failed records are skipped, the others kept)."""
        return self._dml("insert", sobject, records, all_or_none)

    def update(self, sobject, records, all_or_none=True):
        """Update records given as dicts with Id (one DML statement)."""
        return self._dml("update", sobject, records, all_or_none)

    def delete(self, sobject, record_ids, all_or_none=True):
        """Delete records by id (one DML statement)."""
        return self._dml("delete", sobject, [{"Id": r} for r in record_ids], all_or_none)

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
        for attempt in range(3):
            statement, logged = self._savepoint(), len(self.flow_log)
            queued = len(self.after_commit)
            results = self._write_all(op, odef, records, all_or_none, failed)
            done = [(i, r) for i, r in enumerate(results) if r is not None and r != "failed"]
            try:
                if done:
                    self._after(op, odef.name, [r for _, r in done])
            except DmlError as exc:
                index = next((i for i, r in done if r["Id"] == exc.record_id), None)
                self._rollback(statement)
                del self.flow_log[logged:]
                del self.after_commit[queued:]
                if index is None or all_or_none or attempt == 2:
                    if index is not None:
                        exc.index = index
                    raise
                failed[index] = exc.as_dict()
                continue
            self.org._db.execute(f"RELEASE {statement}")
            break
        if all_or_none:
            return [r["Id"] for r in results]
        return [{"id": None, "success": False, "errors": [failed[i]]} if i in failed
                else {"id": r["Id"], "success": True, "errors": []}
                for i, r in enumerate(results)]

    def _savepoint(self):
        name = f"sp{self._savepoints}"
        self._savepoints += 1
        self.org._db.execute(f"SAVEPOINT {name}")
        return name

    def _rollback(self, name):
        self.org._db.execute(f"ROLLBACK TO {name}")
        self.org._db.execute(f"RELEASE {name}")

    def _write_all(self, op, odef, records, all_or_none, failed):
        """Write each record not already failed; returns the stored record, or "failed"."""
        results = []
        for index, record in enumerate(records):
            if index in failed:
                results.append("failed")
                continue
            name = self._savepoint()
            try:
                stored = getattr(self, f"_{op}_one")(odef, record)
            except SalesforceError as exc:
                self._rollback(name)
                if all_or_none:
                    raise DmlError(exc.code, exc.message, exc.fields, index) from exc
                failed[index] = exc.as_dict()
                results.append("failed")
                continue
            self.org._db.execute(f"RELEASE {name}")
            results.append(stored)
        return results

    def _after(self, op, sobject, records):
        if not self.org._handlers[op]:
            return
        self.trigger_depth += 1
        try:
            if self.trigger_depth > MAX_TRIGGER_DEPTH:
                raise DmlError("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                               "maximum trigger depth exceeded")
            for handler in self.org._handlers[op]:
                handler(self, sobject, [dict(r) for r in records])
        finally:
            self.trigger_depth -= 1

    def _clean(self, odef, record, creating):
        """Validate field names, writability and values; return {canonical name: value}."""
        out = {}
        for key, value in record.items():
            if key == "attributes":
                continue
            fdef = odef.field(key)
            if fdef.name == "Id":
                continue
            writable = fdef.createable if creating else fdef.updateable
            if not writable:
                raise SalesforceError(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {fdef.name}. Please check the security "
                    "settings of this field and verify that it is read/write for your profile "
                    "or permission set.", [fdef.name])
            out[fdef.name] = self.normalise(odef, fdef, value)
        return out

    def _insert_one(self, odef, record):
        values = self._clean(odef, record, creating=True)
        stamp = now_iso()
        full = {f.name: None for f in odef.fields.values()}
        for fdef in odef.fields.values():
            if fdef.default_value is not None:
                full[fdef.name] = fdef.default_value
        full.update({
            "Id": self.org._next_id(odef), "IsDeleted": False, "CreatedDate": stamp,
            "LastModifiedDate": stamp, "SystemModstamp": stamp,
            "CreatedById": self.user_id, "LastModifiedById": self.user_id,
        })
        if odef.has("OwnerId"):
            full["OwnerId"] = self.user_id
        full.update(values)
        self._derive(odef, full, values)
        self._require(odef, full)
        self._rules(odef, full)
        self.org._write(odef.name, full, new=True)
        if odef.name == "Event" and full.get("WhoId"):
            self._relate(full["Id"], full["WhoId"], is_parent=True, is_invitee=False)
        return full

    def _update_one(self, odef, record):
        rid = self._existing_id(odef, record.get("Id"))
        _, current = self.org._fetch(rid)
        values = self._clean(odef, record, creating=False)
        full = {**current, **values}
        full["LastModifiedDate"] = full["SystemModstamp"] = now_iso()
        full["LastModifiedById"] = self.user_id
        self._derive(odef, full, values)
        self._require(odef, full)
        self._rules(odef, full)
        self.org._write(odef.name, full, new=False)
        if odef.name == "Event" and full.get("WhoId") != current.get("WhoId"):
            self._move_who(full["Id"], current.get("WhoId"), full.get("WhoId"))
        return full

    def _delete_one(self, odef, record):
        rid = self._existing_id(odef, record.get("Id"))
        _, current = self.org._fetch(rid)
        db = self.org._db
        db.execute("DELETE FROM records WHERE id = ?", (rid,))
        if odef.name == "Event":
            rels = self.org._relations_of(rid)
        elif odef.name in ("Contact", "Lead", "User"):
            rels = [r for r in self.org._rows("EventRelation") if r["RelationId"] == rid]
        else:
            rels = []
        for rel in rels:
            db.execute("DELETE FROM records WHERE id = ?", (rel["Id"],))
        return current

    def _existing_id(self, odef, value):
        if not value:
            raise SalesforceError("MISSING_ARGUMENT", "Id not specified in an update call",
                                  ["Id"])
        try:
            rid = ids.to18(value)
        except ValueError:
            raise SalesforceError("MALFORMED_ID", f"malformed id {value}", ["Id"]) from None
        sobject, _ = self.org._fetch(rid)
        if sobject is None:
            raise SalesforceError("ENTITY_IS_DELETED" if rid.startswith(odef.key_prefix)
                                  else "INVALID_CROSS_REFERENCE_KEY",
                                  "entity is deleted" if rid.startswith(odef.key_prefix)
                                  else "invalid cross reference id", ["Id"])
        if sobject != odef.name:
            raise SalesforceError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                                  ["Id"])
        return rid

    def _derive(self, odef, full, given):
        """Computed fields: Name of people, Event start/end/duration, User defaults."""
        if odef.name in ("Contact", "Lead", "User"):
            full["Name"] = " ".join(p for p in (full.get("FirstName"), full.get("LastName")) if p)
        if odef.name == "User":
            # The local org fills these User fields Salesforce requires on create, so test data
            # can give just names, Email and IsActive.
            if not full.get("Username") and full.get("Email"):
                full["Username"] = full["Email"]
            if not full.get("Alias") and full.get("LastName"):
                full["Alias"] = ((full.get("FirstName") or "")[:1] + full["LastName"])[:8]
        if odef.name == "EventRelation" and full.get("IsInvitee") is None:
            # Shared Activities: IsInvitee defaults to true unless IsParent is set.
            full["IsInvitee"] = not full.get("IsParent")
        if odef.name == "Event":
            start, end = full.get("StartDateTime"), full.get("EndDateTime")
            if "ActivityDateTime" in given and "StartDateTime" not in given:
                start = full["StartDateTime"] = full["ActivityDateTime"]
            if start and full.get("DurationInMinutes") is not None and (
                "DurationInMinutes" in given and "EndDateTime" not in given or not end
            ):
                end_dt = parse_datetime(start).timestamp() + 60 * full["DurationInMinutes"]
                end = full["EndDateTime"] = format_datetime(datetime.fromtimestamp(end_dt, UTC))
            if start:
                full["ActivityDateTime"] = start
                full["ActivityDate"] = start[:10]
            if start and end:
                minutes = (parse_datetime(end) - parse_datetime(start)).total_seconds() // 60
                full["DurationInMinutes"] = int(minutes)

    def _require(self, odef, full):
        missing = [
            f.name for f in odef.fields.values()
            if not f.nillable and f.createable and f.type != "boolean" and full.get(f.name) is None
        ]
        if odef.name == "Event":
            # Salesforce needs a start (ActivityDateTime) and a duration or an end.
            missing += [n for n in ("ActivityDateTime", "DurationInMinutes")
                        if full.get(n) is None]
        for f in odef.fields.values():
            if f.type == "boolean" and full.get(f.name) is None and not f.nillable:
                full[f.name] = bool(f.default_value)
        if missing:
            raise SalesforceError("REQUIRED_FIELD_MISSING",
                                  f"Required fields are missing: [{', '.join(missing)}]", missing)

    def _rules(self, odef, full):
        if odef.name == "Event" and full["DurationInMinutes"] < 0:
            raise SalesforceError("FIELD_INTEGRITY_EXCEPTION",
                                  "End Date Time: End time can't be before start time.",
                                  ["EndDateTime"])
        for fdef in odef.fields.values():
            value = full.get(fdef.name)
            if fdef.unique and fdef.custom and value is not None:
                dup = next((r for r in self.org._rows(odef.name) if r["Id"] != full["Id"]
                            and fold(r.get(fdef.name)) == fold(value)), None)
                if dup is not None:
                    raise SalesforceError(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {fdef.name} duplicates value on record with "
                        f"id: {dup['Id']}", [fdef.name])
        if odef.name == "User" and full.get("Username"):
            for other in self.org._rows("User"):
                if other["Id"] != full["Id"] and fold(other["Username"]) == fold(
                        full["Username"]):
                    # Salesforce's text, as quoted in afawcett/githubsfdeploy#20 and
                    # patronmanager/apex-dml-manager#14.
                    raise SalesforceError(
                        "DUPLICATE_USERNAME",
                        "Duplicate Username.<br>The username already exists in this or another "
                        "Salesforce organization. Usernames must be unique across all Salesforce "
                        "organizations. To resolve, use a different username (it doesn't need to "
                        "match the user's email address). ", ["Username"])
        if odef.name == "EventRelation":
            self._relation_rules(full)

    def _relation_rules(self, rel):
        """Shared Activities' EventRelation rules, documented in the Object Reference
        (EventRelation: "up to 50 contacts or one lead"; users are invitees only). The codes and
        texts of the User and Lead errors below are this org's wording: Salesforce's were not
        found in its docs, Q&A pages or GitHub issues."""
        relation_type = self.org.object_for_id(rel["RelationId"]).name
        if relation_type == "User" and rel.get("IsParent"):
            raise SalesforceError(
                "FIELD_INTEGRITY_EXCEPTION",
                "Is Parent: a User can only be an invitee of an event, not its parent "
                "(IsParent must be false for User relations)", ["IsParent"])
        siblings = [r for r in self.org._relations_of(rel["EventId"]) if r["Id"] != rel["Id"]]
        dup = next((r for r in siblings if r["RelationId"] == rel["RelationId"]), None)
        if dup is not None:
            raise SalesforceError(
                "DUPLICATE_VALUE",
                f"duplicate value found: RelationId duplicates value on record with id: "
                f"{dup['Id']}", ["RelationId"])
        parents = [r["RelationId"][:3] for r in siblings if r.get("IsParent")]
        if rel.get("IsParent") and (relation_type == "Lead" and parents or "00Q" in parents):
            # Shared Activities: an Event relates to one Lead or to Contacts, never both.
            raise SalesforceError(
                "FIELD_INTEGRITY_EXCEPTION",
                "Is Parent: an event related to a lead can't be related to other contacts or "
                "leads", ["IsParent"])
        if relation_type == "Contact" and rel.get("IsParent"):
            if parents.count("003") + 1 > MAX_EVENT_CONTACTS:
                # The cap is documented ("An event can be related to up to 50 contacts or one
                # lead": https://developer.salesforce.com/docs/platform/object-reference/
                # references/standard-objects/object-eventrelation.html). The error Salesforce
                # returns past it is UNCONFIRMED: searching Salesforce docs, Q&A pages and GitHub
                # issues ("You can't add more than 50 contacts to an event", "EventRelation 50
                # contacts limit error", Shared Activities "Allow Users to Relate Multiple
                # Contacts to Tasks and Events" limits, EventWhoIds over 50) found the limit only,
                # never the code or text. LIMIT_EXCEEDED is a real StatusCode (metadata.wsdl);
                # using it here, and this message, are this org's guess.
                raise SalesforceError(
                    "LIMIT_EXCEEDED",
                    f"You can't relate more than {MAX_EVENT_CONTACTS} contacts to an event.",
                    ["RelationId"])

    def _relate(self, event_id, relation_id, is_parent, is_invitee):
        """Shared Activities' own EventRelation for an Event's WhoId (no DML charged)."""
        odef = self.org.describe("EventRelation")
        self._insert_one(odef, {"EventId": event_id, "RelationId": relation_id,
                                "IsParent": is_parent, "IsInvitee": is_invitee})

    def _move_who(self, event_id, old, new):
        for rel in self.org._relations_of(event_id):
            if rel["RelationId"] == old and not rel["IsInvitee"]:
                self.org._db.execute("DELETE FROM records WHERE id = ?", (rel["Id"],))
        if new and not any(r["RelationId"] == new for r in self.org._relations_of(event_id)):
            self._relate(event_id, new, is_parent=True, is_invitee=False)

    # ----- queries ------------------------------------------------------------------------

    def retrieve(self, sobject, record_id, fields=None):
        """One record by id as stored (all fields, or `fields`), or None. Not a SOQL query."""
        odef = self.org.describe(sobject)
        try:
            rid = ids.to18(record_id)
        except ValueError:
            raise SalesforceError("MALFORMED_ID", f"malformed id {record_id}") from None
        found, record = self.org._fetch(rid)
        if found != odef.name:
            return None
        if fields is None:
            return record
        return {odef.field(f).name: record.get(odef.field(f).name) for f in fields}

    def query(self, sobject, fields, where=None, order_by=None, limit=None, offset=None):
        """Records matching `where`, projected on `fields` (dotted paths become nested dicts,
        like the REST API: {"Owner": {"Email": ...}}). Counts 1 SOQL query + returned rows."""
        odef = self.org.describe(sobject)
        resolver = _Resolver(self.org, odef)
        paths = [resolver.check(f) for f in fields]
        for f in fields_of(where):
            resolver.check(f)
        where = resolver.normalise_condition(self, where)
        rows = [r for r in self.org._rows(odef.name)
                if evaluate(where, lambda f, r=r: resolver.get(r, f))]
        rows = self._sort(resolver, rows, order_by)[offset or 0:]
        if limit is not None:
            rows = rows[:limit]
        self.usage.count_query(len(rows))
        return [resolver.project(r, paths) for r in rows]

    def mark_used(self, sobject, record_ids, field_name):
        """Stamp LastViewedDate or LastReferencedDate now on these records, as SOQL FOR VIEW /
        FOR REFERENCE does; not DML (no LastModifiedDate, no triggers, no governor DML)."""
        odef = self.org.describe(sobject)
        fdef = odef.field(field_name)
        stamp = now_iso()
        for rid in record_ids:
            found, record = self.org._fetch(rid)
            if found == odef.name:
                self.org._write(odef.name, {**record, fdef.name: stamp}, new=False)

    def query_many(self, sobject, fields, requests):
        """Several filters on one object as ONE SOQL query, as a bulkified flow element does.

        `requests` is a list of (where, order_by, limit); returns one result list per request.
        Counts 1 query, and as rows the distinct records matched by any request (what the
        combined query retrieves)."""
        odef = self.org.describe(sobject)
        resolver = _Resolver(self.org, odef)
        paths = [resolver.check(f) for f in fields]
        rows = self.org._rows(odef.name)
        results, matched = [], set()
        for where, order_by, limit in requests:
            for f in fields_of(where):
                resolver.check(f)
            where = resolver.normalise_condition(self, where)
            hits = [r for r in rows if evaluate(where, lambda f, r=r: resolver.get(r, f))]
            matched.update(r["Id"] for r in hits)
            hits = self._sort(resolver, hits, order_by)
            results.append(hits[:limit] if limit is not None else hits)
        self.usage.count_query(len(matched))
        return [[resolver.project(r, paths) for r in hits] for hits in results]

    @staticmethod
    def _sort(resolver, rows, order_by):
        for fpath, desc, nulls_last in reversed(order_by or []):
            resolver.check(fpath)
            if nulls_last is None:
                nulls_last = bool(desc)
            present = [r for r in rows if resolver.get(r, fpath) is not None]
            absent = [r for r in rows if resolver.get(r, fpath) is None]
            present.sort(key=lambda r, p=fpath: fold(resolver.get(r, p)), reverse=bool(desc))
            rows = present + absent if nulls_last else absent + present
        return rows

    def count(self, sobject, where=None) -> int:
        """SELECT COUNT() — one query; each counted record is a query row, as in Salesforce."""
        odef = self.org.describe(sobject)
        resolver = _Resolver(self.org, odef)
        for f in fields_of(where):
            resolver.check(f)
        where = resolver.normalise_condition(self, where)
        n = sum(1 for r in self.org._rows(odef.name)
                if evaluate(where, lambda f, r=r: resolver.get(r, f)))
        self.usage.count_query(n)
        return n


_TYPED = ("id", "reference", "boolean", "int", "double", "currency", "percent", "date",
          "datetime")


class _Resolver:
    """Field paths of one query: validation, parent lookups, projection."""

    def __init__(self, org, odef):
        self.org = org
        self.odef = odef
        self._parents = {}
        self._paths = {}

    def check(self, path: str) -> list:
        """Canonical path parts; INVALID_FIELD when a part does not exist."""
        if path not in self._paths:
            self._paths[path] = self._check(path)
        return self._paths[path]

    def _check(self, path: str) -> list:
        parts = path.split(".")
        odefs, out = [self.odef], []
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                if part.lower() == "type" and i > 0:
                    out.append("Type")
                    break
                hits = [o.field(part) for o in odefs if o.has(part)]
                if not hits:
                    where = odefs[0].name if len(odefs) == 1 else "Name"
                    raise SalesforceError(
                        "INVALID_FIELD",
                        f"No such column '{part}' on entity '{where}'. If you are attempting to "
                        "use a custom field, be sure to append the '__c' after the custom field "
                        "name. Please reference your WSDL or the describe call for the "
                        "appropriate names.", [path])
                out.append(hits[0].name)
            else:
                rel = next((o.relationship(part) for o in odefs if o.relationship(part)), None)
                if rel is None:
                    raise SalesforceError(
                        "INVALID_FIELD",
                        f"Didn't understand relationship '{part}' in field path '{path}'. If you "
                        "are attempting to use a custom relationship, be sure to append the '__r' "
                        "after the custom relationship name.", [path])
                out.append((rel.relationship_name, rel.name))
                odefs = [self.org.describe(t) for t in rel.reference_to
                         if t in self.org._objects] or list(self.org._objects.values())
        return out

    def _parent(self, rid):
        if rid not in self._parents:
            self._parents[rid] = self.org._fetch(rid)
        return self._parents[rid]

    def get(self, record, path):
        parts = self.check(path) if isinstance(path, str) else path
        current, sobject = record, self.odef.name
        for part in parts:
            if current is None:
                return None
            if isinstance(part, tuple):
                rid = current.get(part[1])
                sobject, current = self._parent(rid) if rid else (None, None)
            elif part == "Type":
                return sobject
            else:
                return current.get(part)
        return None

    def project(self, record, paths) -> dict:
        out = {}
        for parts in paths:
            node, current, sobject = out, record, self.odef.name
            for part in parts[:-1]:
                rid = current.get(part[1]) if current else None
                sobject, current = self._parent(rid) if rid else (None, None)
                if current is None:
                    node[part[0]] = None
                    break
                node = node.setdefault(part[0], {"attributes": {"type": sobject}})
            else:
                last = parts[-1]
                node[last] = sobject if last == "Type" and len(parts) > 1 else current.get(last)
        return out

    def normalise_condition(self, txn, cond):
        """Literal values converted to the stored form of their field (datetimes, ids…)."""
        from localorg.conditions import And, Cmp, Not, Or

        if cond is None:
            return None
        if isinstance(cond, And | Or):
            return type(cond)(*(self.normalise_condition(txn, c) for c in cond.conds))
        if isinstance(cond, Not):
            return Not(self.normalise_condition(txn, cond.cond))
        parts = self.check(cond.field)
        if parts[-1] == "Type":
            return cond
        odef = self.odef
        for part in parts[:-1]:
            targets = odef.field(part[1]).reference_to
            odef = self.org.describe(targets[0]) if targets else odef
        fdef = odef.field(parts[-1]) if odef.has(parts[-1]) else None

        def conv(value):
            if value is None or fdef is None or fdef.type not in _TYPED:
                return value
            if fdef.type in ("id", "reference"):
                try:
                    return ids.to18(value)
                except ValueError:
                    raise SalesforceError("INVALID_QUERY_FILTER_OPERATOR",
                                          f"invalid ID field: {value}") from None
            try:
                return txn.normalise(odef, fdef, value, check_refs=False)
            except DmlError as exc:
                raise SalesforceError("INVALID_QUERY_FILTER_OPERATOR",
                                      f"value of filter criterion for field '{fdef.name}' must "
                                      f"be of type {fdef.type}: {value}") from exc

        if cond.op in ("IN", "NOT IN"):
            return Cmp(cond.field, cond.op, [conv(v) for v in cond.value])
        if cond.op == "LIKE":
            return cond
        return Cmp(cond.field, cond.op, conv(cond.value))
