"""Metadata API deploys: read the zip, check each component, apply all or none.

Checks: Salesforce's Metadata API schema (`metacheck.schema`) per component, unsupported types
named in a component failure, never a silent success; a Flow's field references (`flow_refs`),
formulas and Get Records limits (`flow_checks`). Applying, in one all-or-none step
(rollbackOnError, as CumulusCI asks): Flow -> a flow version in the store (active when
`<status>Active`); Layout, Profile, PermissionSet -> stored source for retrieve and the Event
page; CustomObject / CustomField -> the org's schema; InstalledPackage -> nothing for the installed
version, an upgrade for a newer one (`localorg.backend.package_deploy`), a failure otherwise.
A CustomObject's listViews are kept as ListView components (`Object.View`).
destructiveChanges: Flow members (every version deleted; an active one is refused, a missing one
is a warning), CustomField members of the org's own fields, ListView members; other types are
component failures.
checkOnly checks and applies nothing. A warning (a destructive member the org does not have)
fails the deploy unless DeployOptions ignoreWarnings is true. A testLevel that runs Apex tests
fails the deploy with NOT_IMPLEMENTED: the local org has no Apex runtime. Result shapes:
Metadata API Developer Guide, meta_deployresult.htm.
"""

import base64
import io
import zipfile

from lxml import etree

from localorg.backend import flow_checks, flow_refs, package_deploy
from localorg.backend.jobs import AsyncJob
from localorg.backend.metadata_types import (
    BY_FOLDER,
    FOLDERS,
    KNOWN_FOLDERS,
    PACKAGE_TYPE,
    STORED_TYPES,
    children_of,
    file_name,
    md,
)
from localorg.errors import SalesforceError
from localorg.schema import MD_NS, field_from_xml, new_custom_object

# testLevel values that run Apex tests (DeployOptions, meta_deploy.htm); NoTestRun and
# the default run none.
RUNS_TESTS = ("RunSpecifiedTests", "RunLocalTests", "RunAllTestsInOrg", "RunRelevantTests")


class Component:
    """One file of a deploy zip, with the problems found in it: (problem, problemType, line)."""

    def __init__(self, kind, full_name, file_name, body):
        self.kind, self.full_name, self.file_name, self.body = kind, full_name, file_name, body
        self.problems = []
        self.created = True
        self.deleted = False
        self.warning = None  # a destructive member that does not exist
        self.upgrade_to = None  # InstalledPackage: the newer version to install


def read_zip(data: bytes):
    """(root prefix, {path inside root: bytes}) of a deploy zip; root holds package.xml."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = [n for n in archive.namelist() if not n.endswith("/")]
    manifests = sorted((n for n in names if n.rsplit("/", 1)[-1] == "package.xml"), key=len)
    if not manifests:
        raise SalesforceError("INVALID_ZIP", "No package.xml found in the deploy zip")
    root = manifests[0][: -len("package.xml")]
    return root, {n[len(root):]: archive.read(n) for n in names if n.startswith(root)}


def components_of(files: dict) -> list:
    comps = []
    for path, data in sorted(files.items()):
        if path == "package.xml" or path.startswith("destructiveChanges"):
            continue
        folder, _, rest = path.partition("/")
        if path.endswith("-meta.xml") and folder in KNOWN_FOLDERS:
            continue  # the companion of an unsupported file, reported with it
        if folder in BY_FOLDER and rest.endswith("." + BY_FOLDER[folder][1]):
            kind = BY_FOLDER[folder][0]
            full_name = rest[: -len(BY_FOLDER[folder][1]) - 1]
        else:
            kind = KNOWN_FOLDERS.get(folder, f"unknown ({folder})")
            full_name = rest.rsplit(".", 1)[0] if rest else path
        comps.append(Component(kind, full_name, path, data))
    return comps


def destructive_components(files: dict, org) -> list:
    """One component per destructiveChanges member, checked for deletion (deletion_problem)."""
    comps = []
    for name in [n for n in files if n.startswith("destructiveChanges")]:
        manifest = etree.fromstring(files[name])
        for types in manifest.findall(f"{{{MD_NS}}}types"):
            kind = md(types, "name")
            for member in types.findall(f"{{{MD_NS}}}members"):
                comp = Component(kind, (member.text or "").strip(), name, b"")
                comp.deleted, comp.created = True, False
                comps.append(comp)
    deleting = {c.full_name for c in comps if c.kind == "Flow"}
    for comp in comps:
        deletion_problem(comp, org, deleting)
    return comps


def flows_using(org, sobject: str, field: str, deleting=frozenset()) -> list:
    """Names of the org's own flows (any version) that reference sobject.field, but those this
    deploy deletes. An installed package's flows are left out: a managed package cannot
    reference the org's own fields, only the local package stand-in's flows do."""
    key, names = (sobject.lower(), field.lower()), []
    packaged = tuple(f"{p['namespace']}__" for p in org.installed_packages())
    for flow in org.flows():
        if flow["name"] in deleting or flow["name"].startswith(packaged):
            continue
        if any(key in flow_refs.references(etree.fromstring(
                org.flow_xml(flow["name"], v["version"]))) for v in flow["versions"]):
            names.append(flow["name"])
    return names


def deletion_problem(comp: Component, org, deleting=frozenset()) -> None:
    """Flow: an active version refuses the deletion. CustomField: only the org's own fields
    (a namespaced one is a package's), and none a flow version still references (flows in
    `deleting` go in the same deploy). A member the org does not have is a Warning, as on
    Salesforce. ListView: a kept one is deleted. Other types are failures (not implemented)."""
    missing = f"No {comp.kind} named: {comp.full_name} found"
    if comp.kind == "Flow":
        flow = next((f for f in org.flows() if f["name"] == comp.full_name), None)
        if flow is None:
            comp.warning = missing
        elif flow["active_version"]:
            comp.problems.append((
                f"Cannot delete flow {comp.full_name}: version {flow['active_version']} is "
                "active. Deactivate it first.", "Error", None))
    elif comp.kind == "CustomField":
        sobject, _, field = comp.full_name.partition(".")
        try:
            found = org.describe(sobject).has(field)
        except SalesforceError:
            found = False
        if not found:
            comp.warning = missing
        elif "__" in field[: -len("__c")]:
            comp.problems.append((f"Cannot delete {comp.full_name}: it belongs to a managed "
                                  "package.", "Error", None))
        elif using := flows_using(org, sobject, field, deleting):
            comp.problems.append(("This custom field is referenced elsewhere in salesforce.com. "
                                  ": " + ", ".join(f"Flow - {name}" for name in using),
                                  "Error", None))
    elif comp.kind == "ListView":
        if org.component(comp.kind, comp.full_name) is None:
            comp.warning = missing
    else:
        comp.problems.append((f"Deleting {comp.kind} components (destructiveChanges) is not "
                              "implemented by localorg; only Flow, CustomField and ListView are.",
                              "Error", None))


def added_fields(comps: list) -> dict:
    """Object name (lower case) -> field names (lower case) that the deploy's CustomObject
    components define (an empty set for a new object without fields)."""
    out = {}
    for comp in comps:
        if comp.kind != "CustomObject":
            continue
        try:
            root = etree.fromstring(comp.body)
        except etree.XMLSyntaxError:
            continue  # reported by the schema check
        names = out.setdefault(comp.full_name.lower(), set())
        names.update(n.lower() for n in (md(f, "fullName") for f in
                                         root.findall(f"{{{MD_NS}}}fields")) if n)
    return out


def field_exists(org, added: dict, sobject: str, field: str):
    """True/False for a field of a known object; None when the object is unknown."""
    extra = added.get(sobject.lower())
    try:
        odef = org.describe(sobject)
    except SalesforceError:
        if extra is None:
            return None
        odef = new_custom_object(sobject, "a00", "", "")  # created by this deploy
    if "." in field:  # data elements take the object's own fields, not relationship paths
        return False
    return odef.has(field) or field.lower() in (extra or set())


def check(comp: Component, org, added=None) -> None:
    """Fill comp.problems: schema errors, unsupported types, packages that can't be installed,
    flow references to fields that do not exist (`added`: fields the deploy itself adds)."""
    added = added or {}
    from metacheck import schema

    if comp.kind not in FOLDERS:
        comp.problems.append((f"Metadata type {comp.kind} is not supported by localorg (the "
                              "embedded local org); deploy it to a real org.", "Error", None))
        return
    body = comp.body
    if comp.kind == "InstalledPackage":
        try:
            body = package_deploy.in_schema_order(body, schema.child_order("InstalledPackage"))
        except etree.XMLSyntaxError:
            pass  # reported by the schema check below
    for finding in schema.validate(body, kind=comp.kind, filename=comp.file_name):
        if finding.severity == "error":
            where = f" ({finding.element})" if finding.element else ""
            comp.problems.append((finding.message + where, "Error", finding.line))
    if comp.problems:
        return
    if comp.kind == "InstalledPackage":
        package_deploy.check_install(comp, org)
    elif comp.kind == "Flow":
        comp.created = comp.full_name not in {f["name"] for f in org.flows()}
        root = etree.fromstring(comp.body)
        comp.problems += [(problem, "Error", line) for problem, line
                          in flow_refs.problems(root, lambda o, f: field_exists(org, added, o, f))
                          + flow_checks.problems(root)]
    elif comp.kind == "CustomObject":
        try:
            org.describe(comp.full_name)
            comp.created = False
        except SalesforceError:
            if not comp.full_name.endswith("__c"):
                comp.problems.append((f"Cannot create standard object {comp.full_name}; "
                                      "custom objects end with __c.", "Error", None))
        comp.problems += list_view_column_problems(comp, org, added)
    else:
        comp.created = org.component(comp.kind, comp.full_name) is None
        if comp.kind in ("Profile", "PermissionSet"):
            comp.problems += field_permission_problems(comp, org, added)
        elif comp.kind == "Layout":
            comp.problems += layout_field_problems(comp, org, added)


def list_view_column_problems(comp: Component, org, added: dict) -> list:
    """A list view column naming a custom field the object lacks (nor gets in this deploy):
    "Could not resolve list view column: X", as Salesforce refuses it. Standard column tokens
    (NAME, CREATED_DATE, …) and relationship columns are not checked (docs/fidelity.md)."""
    out = []
    for column in etree.fromstring(comp.body).iterfind(f"{{{MD_NS}}}listViews/{{{MD_NS}}}columns"):
        name = (column.text or "").strip()
        prefix, dot, field = name.rpartition(".")
        if not field.endswith("__c") or (dot and prefix.lower() != comp.full_name.lower()):
            continue
        if not field_exists(org, added, comp.full_name, field):
            out.append((f"Could not resolve list view column: {name}", "Error",
                        column.sourceline))
    return out


def field_permission_problems(comp: Component, org, added: dict) -> list:
    """A Profile's or PermissionSet's fieldPermissions naming a field the org lacks (nor gets
    in this deploy): "In field: field - no CustomField named X found", as Salesforce says."""
    out = []
    for el in etree.fromstring(comp.body).iterfind(f"{{{MD_NS}}}fieldPermissions/{{{MD_NS}}}field"):
        name = (el.text or "").strip()
        sobject, _, field = name.partition(".")
        if not field_exists(org, added, sobject, field or name):
            out.append((f"In field: field - no CustomField named {name} found", "Error",
                        el.sourceline))
    return out


def layout_field_problems(comp: Component, org, added: dict) -> list:
    """A layout item naming a custom field (`X__c`) the object lacks: the same text. Standard
    names are not checked: layouts carry pseudo-fields (Event's Attendees) no describe lists."""
    sobject, out = comp.full_name.split("-", 1)[0], []
    for el in etree.fromstring(comp.body).iter(f"{{{MD_NS}}}field"):
        name = (el.text or "").strip()
        if name.endswith("__c") and not field_exists(org, added, sobject, name):
            out.append((f"In field: field - no CustomField named {sobject}.{name} found",
                        "Error", el.sourceline))
    return out


def apply(comp: Component, org) -> None:
    if comp.deleted:
        if comp.warning is None and comp.kind == "Flow":
            org.delete_flow(comp.full_name)
        elif comp.warning is None and comp.kind == "CustomField":
            org.remove_custom_field(*comp.full_name.split(".", 1))
        elif comp.warning is None and comp.kind == "ListView":
            org.delete_component(comp.kind, comp.full_name)
        return
    root = etree.fromstring(comp.body)
    if comp.kind == "Flow":
        org.deploy_flow(comp.full_name, comp.body)
    elif comp.kind == "InstalledPackage":
        package_deploy.upgrade(comp, org)
    elif comp.kind == "CustomObject":
        if comp.full_name.endswith("__c"):
            label, plural = md(root, "label") or "", md(root, "pluralLabel") or ""
            org.define_object(comp.full_name, label, plural)
        for field_el in root.findall(f"{{{MD_NS}}}fields"):
            org.add_custom_field(comp.full_name, field_from_xml(field_el))
        for kind, name, body in children_of(comp.full_name, root):
            org.save_component(kind, name, file_name(kind, name), body)
    elif comp.kind in STORED_TYPES:
        org.save_component(comp.kind, comp.full_name, comp.file_name, comp.body)


def remember_package(org, manifest_xml: bytes) -> None:
    """A deployed package.xml with <fullName> adds its members to that unmanaged package."""
    manifest = etree.fromstring(manifest_xml)
    name = md(manifest, "fullName")
    if not name:
        return
    members = {}
    stored = org.component(PACKAGE_TYPE, name)
    for source in ([etree.fromstring(stored["body"])] if stored else []) + [manifest]:
        for types in source.findall(f"{{{MD_NS}}}types"):
            found = members.setdefault(md(types, "name"), set())
            found.update(m.text.strip() for m in types.findall(f"{{{MD_NS}}}members") if m.text)
    out = etree.Element(f"{{{MD_NS}}}Package", nsmap={None: MD_NS})
    etree.SubElement(out, f"{{{MD_NS}}}fullName").text = name
    for kind in sorted(members):
        types = etree.SubElement(out, f"{{{MD_NS}}}types")
        for member in sorted(members[kind]):
            etree.SubElement(types, f"{{{MD_NS}}}members").text = member
        etree.SubElement(types, f"{{{MD_NS}}}name").text = kind
    etree.SubElement(out, f"{{{MD_NS}}}version").text = md(manifest, "version") or "63.0"
    org.save_component(PACKAGE_TYPE, name, "package.xml",
                       etree.tostring(out, xml_declaration=True, encoding="UTF-8",
                                      pretty_print=True))


class Deploy(AsyncJob):
    """One deploy request (a DeployResult): its zip, status, components and error."""

    def __init__(self, job_id: str, zip_base64: str, check_only: bool,
                 test_level: str | None = None, ignore_warnings: bool = False):
        super().__init__(job_id)
        self.zip_base64 = zip_base64 or ""
        self.check_only = check_only
        self.test_level = test_level
        self.ignore_warnings = ignore_warnings  # DeployOptions; Salesforce's default is false
        self.error_code = None
        self.comps = []
        self.error = None

    @property
    def failures(self) -> list:
        return [c for c in self.comps if c.problems]

    @property
    def blocking_warnings(self) -> list:
        """Warnings that fail the deploy: all of them unless ignoreWarnings is true."""
        return [] if self.ignore_warnings else [c for c in self.comps if c.warning]

    def run(self, org) -> None:
        """Check every component, then apply them all or none (unless checkOnly)."""
        try:
            _, files = read_zip(base64.b64decode(self.zip_base64))
            self.comps = components_of(files)
            added = added_fields(self.comps)
            for comp in self.comps:
                check(comp, org, added)
            self.comps += destructive_components(files, org)
            package_deploy.check_alone(self.comps)
            if self.test_level in RUNS_TESTS:
                self.error_code = "NOT_IMPLEMENTED"
                self.error = (f"testLevel {self.test_level} runs Apex tests, and localorg has no "
                              "Apex runtime: nothing was deployed or run. Validate here with "
                              "testLevel NoTestRun; run the tests on a scratch org or sandbox.")
            elif not self.failures and not self.blocking_warnings and not self.check_only:
                apply_all(org, self.comps, files["package.xml"])
        except (zipfile.BadZipFile, ValueError, SalesforceError, etree.XMLSyntaxError) as exc:
            self.error = f"The deploy zip could not be read: {getattr(exc, 'message', exc)}"
        ok = not self.failures and not self.blocking_warnings and self.error is None
        self.status = "Succeeded" if ok else "Failed"


def apply_all(org, comps: list, manifest: bytes) -> None:
    """Apply in one transaction (rollbackOnError); a failure is the failing component's."""
    current = None
    try:
        with org.transaction():
            # objects and fields first: flows and layouts in the same zip use them
            for current in sorted(comps, key=lambda c: c.kind != "CustomObject"):
                apply(current, org)
            remember_package(org, manifest)
    except SalesforceError as exc:
        current.problems.append((exc.message, "Error", None))
