"""The `Org` facade: one local org's schema, packages, flows, components and transactions.

See `localorg.backend` for the public API. Storage is `persistence.Database`; DML runs in
`dml.Transaction`, queries in `query`, per-object rules in `rules`.
"""

import functools
from contextlib import contextmanager
from pathlib import Path

from lxml import etree

from localorg import ids
from localorg.backend import collector, settings
from localorg.backend.dml import Transaction
from localorg.backend.packages import Package
from localorg.backend.persistence import Database
from localorg.errors import SalesforceError
from localorg.schema import (
    MD_NS,
    FieldDef,
    ObjectDef,
    allow_audit_fields,
    field_from_xml,
    new_custom_object,
    read_source_objects,
    standard_objects,
)
from localorg.values import now_iso

ADMIN_EMAIL = "admin@localorg.test"


def _locked(method):
    """Run an Org method under the org's lock: reads never see another thread's open transaction."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self.db.lock:
            return method(self, *args, **kwargs)

    return wrapper


class Org:
    """One local org: schema, records and flow definitions in a SQLite database."""

    def __init__(self, path=":memory:", packages=(), run_flows=True, shared_activities=True):
        self.path = str(path)
        self.db = Database(self.path)
        self._txn = None
        self._handlers = {"insert": [], "update": [], "delete": []}
        self._objects = standard_objects()
        self._by_prefix = None  # ({first 3 characters of a key prefix: [ObjectDef]}, {…: first})
        with self.db.lock:
            self._load_custom_schema()
            if self.db.meta("org_id") is None:
                self._initialise(packages, shared_activities)
        # A setting of the org's creation: reopening an org keeps its own (settings.py).
        self.shared_activities = self.db.meta("shared_activities", True)
        settings.apply(self._objects, self.shared_activities)
        self._apply_audit_permission()
        self.org_id = self.db.meta("org_id")
        self.default_user_id = self.db.meta("default_user_id")
        self.flow_trigger = None  # FlowTrigger: .async_paths.runs lists asynchronous paths run
        if run_flows:
            from localorg.flow.trigger import FlowTrigger

            self.flow_trigger = FlowTrigger(self).install()

    # ----- set-up -------------------------------------------------------------------------

    def _initialise(self, packages, shared_activities=True):
        db = self.db
        db.begin()
        try:
            db.set_meta("shared_activities", bool(shared_activities))
            org_id = ids.make_id("00D", 1)
            profile_id = ids.make_id("00e", 1)
            user_id = ids.make_id("005", 1)
            db.set_meta("org_id", org_id)
            db.set_meta("default_user_id", user_id)
            db.set_meta("packages", [])
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
                db.write(sobject, {"Id": rid, **audit, **data}, new=True)
            db.set_meta("seq", 1)
            for package in packages:
                self.install_package(package)
            db.commit()
        except BaseException:
            db.rollback()
            raise

    def _load_custom_schema(self):
        for name, prefix, label, plural in self.db.custom_objects():
            self._objects[name] = new_custom_object(name, prefix, label or "", plural or "")
        for sobject, data in self.db.custom_fields():
            self._objects[sobject].add(FieldDef(**data))

    @_locked
    def audit_fields_allowed(self) -> bool:
        """Whether the running user has "Set Audit Fields upon Record Creation"."""
        return bool(self.db.meta("create_audit_fields", False))

    def allow_audit_fields(self, on: bool = True) -> None:
        """Grant (or revoke) "Set Audit Fields upon Record Creation": CreatedDate, CreatedById,
        LastModifiedDate, LastModifiedById become createable on every object, in the describe
        as in DML. Off in a new org, as on Salesforce; kept in the org's database."""
        with self.db.lock:
            self.db.set_meta("create_audit_fields", bool(on))
            self._apply_audit_permission()

    def _apply_audit_permission(self):
        on = self.audit_fields_allowed()
        for odef in self._objects.values():
            allow_audit_fields(odef, on)

    @_locked
    def installed_packages(self) -> list:
        """[{"namespace", "name", "version"}] in installation order."""
        return self.db.meta("packages", [])

    def install_package(self, package: Package) -> None:
        """Install the package's schema and report it installed at its version (replacing the
        version installed before, as an upgrade does)."""
        with self.db.lock:
            sources = self.db.meta("package_sources", {})
            source = package.source or sources.get(package.namespace)
            if source is None:
                raise SalesforceError(
                    "NOT_FOUND", f"package {package.namespace}: no source folder given and none "
                    "installed before")
            self.install_source(source)
            sources[package.namespace] = str(Path(source).resolve())
            self.db.set_meta("package_sources", sources)
            rows = [p for p in self.installed_packages() if p["namespace"] != package.namespace]
            rows.append({"namespace": package.namespace,
                         "name": package.name or package.namespace,
                         "version": str(package.version)})
            self.db.set_meta("packages", rows)

    # ----- schema -------------------------------------------------------------------------

    def describe(self, sobject: str) -> ObjectDef:
        """The object's metadata; INVALID_TYPE when the org has no such object."""
        exact = self._objects.get(sobject)
        if exact is not None:
            return exact
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

    def object_for_id(self, record_id: str) -> ObjectDef | None:
        """The object whose key prefix starts `record_id` (the first defined, if several)."""
        by_prefix = self._by_prefix
        if by_prefix is None:
            with self.db.lock:
                by_prefix = {}
                for odef in self._objects.values():
                    by_prefix.setdefault(odef.key_prefix[:3], []).append(odef)
                # a prefix whose objects all have 3-character key prefixes: the first
                self._by_prefix = by_prefix = (by_prefix, {
                    prefix: odefs[0] for prefix, odefs in by_prefix.items()
                    if all(len(o.key_prefix) == 3 for o in odefs)})
        found = by_prefix[1].get(record_id[:3])
        if found is not None:
            return found
        for odef in by_prefix[0].get(record_id[:3], ()):
            if record_id.startswith(odef.key_prefix):
                return odef
        return None

    def define_object(self, name: str, label: str = "", plural: str = "") -> ObjectDef:
        """Create a custom object (or return the existing one): Id, Name, OwnerId, audit fields."""
        with self.db.lock:
            existing = self._objects.get(name)
            if existing is not None:
                return existing
            n_custom = sum(1 for o in self._objects.values() if o.custom)
            odef = new_custom_object(name, ids.custom_prefix(n_custom), label, plural)
            self.db.save_custom_object(name, odef.key_prefix, odef.label, odef.label_plural)
            self._objects[name] = odef
            self._by_prefix = None
            allow_audit_fields(odef, self.audit_fields_allowed())
            return odef

    def add_custom_field(self, sobject: str, fdef) -> FieldDef:
        """Add or redefine a custom field; `fdef` is a FieldDef or CustomField XML bytes."""
        if not isinstance(fdef, FieldDef):
            fdef = field_from_xml(fdef)
        if not fdef.name.endswith("__c"):
            raise SalesforceError("FIELD_INTEGRITY_EXCEPTION",
                                  f"Custom field names end with __c: '{fdef.name}'")
        fdef.custom = True
        with self.db.lock:
            odef = self.describe(sobject)
            odef.add(fdef)
            self.db.save_custom_field(odef.name, fdef.name, fdef.describe())
            return fdef

    def remove_custom_field(self, sobject: str, name: str) -> None:
        """Delete a custom field (destructiveChanges; the caller checks it may be deleted)."""
        with self.db.lock:
            odef = self.describe(sobject)
            fdef = odef.fields.pop(name.lower())
            self.db.delete_custom_field(odef.name, fdef.name)

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

        with self.db.lock:
            version = self.db.add_flow_version(name, text("label"), text("processType"), xml)
            if (text("status") or "Draft") == "Active":
                self.activate_flow(name, version)
            return version

    def activate_flow(self, name: str, version: int | None) -> None:
        """Activate `version` (the previously active one becomes Obsolete); None deactivates."""
        with self.db.lock:
            known = self.db.flow_versions(name)
            if not known:
                raise SalesforceError("NOT_FOUND", f"No flow named {name} in this org")
            if version is not None and version not in known:
                raise SalesforceError(
                    "NOT_FOUND", f"Flow {name} has no version {version} (versions: {known})")
            self.db.set_active_flow(name, version)

    def delete_flow(self, name: str) -> None:
        """Delete every version of a flow (destructiveChanges; the caller checks it is inactive)."""
        self.db.delete_flow(name)

    def flows(self) -> list:
        """[{"name", "label", "process_type", "active_version", "latest_version",
        "versions": [{"version", "status"}]}]"""
        out = {}
        for name, version, status, label, ptype in self.db.flows():
            item = out.setdefault(name, {"name": name, "versions": [], "active_version": None})
            item.update(label=label, process_type=ptype, latest_version=version)
            item["versions"].append({"version": version, "status": status})
            if status == "Active":
                item["active_version"] = version
        return list(out.values())

    def flow_xml(self, name: str, version: int | None = None) -> bytes:
        """A version's XML; version=None: the active version, else the latest."""
        xml = self.db.flow_xml(name, version)
        if xml is None:
            raise SalesforceError("NOT_FOUND", f"No flow {name} version {version or 'any'}")
        return xml

    def active_flows(self) -> list:
        """[(name, version, xml)] of every active flow version."""
        return self.db.active_flows()

    # ----- other metadata components -----------------------------------------------------

    def save_component(self, kind: str, full_name: str, file_name: str, body: bytes) -> None:
        """Store a deployed metadata component (Layout, PermissionSet, …) as its source file."""
        self.db.save_component(kind, full_name, file_name,
                               body.encode() if isinstance(body, str) else body)

    def delete_component(self, kind: str, full_name: str) -> None:
        """Delete a stored component (destructiveChanges; the caller checks it exists)."""
        self.db.delete_component(kind, full_name)

    def component(self, kind: str, full_name: str) -> dict | None:
        """{"kind", "full_name", "file_name", "body", "last_modified"} or None."""
        found = self.db.components(kind, full_name)
        return found[0] if found else None

    def components(self, kind: str) -> list:
        return self.db.components(kind)

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

    def handlers(self, op: str) -> list:
        """The handlers registered for "insert", "update" or "delete"."""
        return self._handlers[op]

    @contextmanager
    def transaction(self, user_id=None):
        """All-or-none unit of work; see `localorg.backend`."""
        with self.db.lock, collector.paused():
            if self._txn is not None:
                raise RuntimeError("a transaction is already open on this thread; use it")
            txn = Transaction(self, user_id or self.default_user_id)
            self._txn = txn
            self.db.forget()
            self.db.savepoint("txn")
            try:
                yield txn
            except BaseException:
                self.db.rollback_to("txn")
                raise
            else:
                self.db.release("txn")
            finally:
                self._txn = None
        for job in txn.after_commit:  # committed: e.g. asynchronous flow paths, each its own txn
            job()
