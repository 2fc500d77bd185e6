"""Metadata API (SOAP, /services/Soap/m/XX.X) of the local org.

Operations, with the request and result shapes of the Metadata API Developer Guide
(atlas.en-us.api_meta.meta: meta_deploy.htm, meta_checkdeploystatus.htm + meta_deployresult.htm,
meta_retrieve.htm, meta_checkretrievestatus.htm + meta_retrieveresult.htm, meta_listmetadata.htm,
meta_readmetadata.htm, meta_canceldeploy.htm) and the envelopes CumulusCI sends
(cumulusci/salesforce_api/soap_envelopes.py):

- deploy: the zip is checked component by component against Salesforce's Metadata API schema
  (`metacheck.schema`), then applied in one all-or-none step (rollbackOnError, as CumulusCI asks):
  Flow -> a flow version in the store (active when `<status>Active`); Layout, Profile,
  PermissionSet -> stored source for retrieve and the Event page; CustomObject / CustomField ->
  the org's schema; InstalledPackage -> refused unless that version is already installed (the
  local org cannot install packages). Any other type is a component failure naming it, never
  a silent success. Deploys run when received; checkDeployStatus reports the finished DeployResult.
- retrieve (unpackaged package.xml, or packageNames of an unmanaged package) / checkStatus /
  checkRetrieveStatus: a zip of the stored source (`unpackaged/package.xml`,
  `unpackaged/flows/X.flow`, ...), with a message per member that does not exist.
- listMetadata, readMetadata, cancelDeploy. Other operations answer a SOAP fault NOT_IMPLEMENTED.

A new org has what every Salesforce org starts with that these callers read: Salesforce's stock
Event page layout ("Event-Event Layout", in `stock/`: the layout retrieved from orgs that never
customised it, e.g. github.com/GetonCRM-Solutions-LLP/Calenso @ 1456f102 and
github.com/CityofToronto/EDC-Salesforce @ c46e7b32, minus their custom fields; no Attendees field).

Profiles and permission sets are stored and returned, not enforced: the local org runs every
call as its System Administrator. A never-deployed `Admin` profile is retrieved as an empty Profile.
"""

import base64
import io
import secrets
import threading
import zipfile
from copy import deepcopy
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree
from werkzeug.wrappers import Response

from localorg.errors import SalesforceError
from localorg.schema import MD_NS, field_from_xml

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
# Metadata API folder and suffix of each type the local org keeps.
FOLDERS = {
    "Flow": ("flows", "flow"),
    "Layout": ("layouts", "layout"),
    "CustomObject": ("objects", "object"),
    "Profile": ("profiles", "profile"),
    "PermissionSet": ("permissionsets", "permissionset"),
    "InstalledPackage": ("installedPackages", "installedPackage"),
}
STORED_TYPES = ("Layout", "Profile", "PermissionSet")  # source kept by the store (components)
PACKAGE_TYPE = "Package"  # unmanaged package manifests, by package name
BY_FOLDER = {folder: (kind, suffix) for kind, (folder, suffix) in FOLDERS.items()}
# Metadata API folders of types the local org does NOT emulate (named in the failure).
KNOWN_FOLDERS = {
    "classes": "ApexClass", "triggers": "ApexTrigger", "pages": "ApexPage",
    "components": "ApexComponent", "lwc": "LightningComponentBundle",
    "aura": "AuraDefinitionBundle",
    "applications": "CustomApplication", "tabs": "CustomTab", "flexipages": "FlexiPage",
    "staticresources": "StaticResource", "reports": "Report", "dashboards": "Dashboard",
    "email": "EmailTemplate", "labels": "CustomLabels", "customMetadata": "CustomMetadata",
    "workflows": "Workflow", "quickActions": "QuickAction", "settings": "Settings",
    "permissionsetgroups": "PermissionSetGroup", "flowDefinitions": "FlowDefinition",
    "recordTypes": "RecordType", "globalValueSets": "GlobalValueSet",
}


STOCK = Path(__file__).with_name("stock")


def seed_stock(org) -> None:
    """Give an org without layouts the stock layouts every Salesforce org has."""
    if org.components("Layout"):
        return
    for path in sorted(STOCK.glob("*.layout")):
        org.save_component("Layout", path.stem, f"layouts/{path.name}", path.read_bytes())


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Jobs:
    """Finished deploy and retrieve results by async process id."""

    def __init__(self):
        self._items = {}
        self._lock = threading.Lock()

    @staticmethod
    def new_id(prefix: str) -> str:
        return prefix + secrets.token_hex(8)[:15]

    def put(self, job_id: str, result: dict) -> None:
        with self._lock:
            self._items[job_id] = result
            if len(self._items) > 200:
                self._items.pop(next(iter(self._items)))

    def get(self, job_id: str):
        with self._lock:
            return self._items.get(job_id) or next(
                (v for k, v in self._items.items() if k[:15] == job_id[:15]), None)


# ----- SOAP plumbing ------------------------------------------------------------------------


def envelope(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns="{MD_NS}" xmlns:xsi="{XSI_NS}">'
        f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )


def fault(code: str, message: str) -> Response:
    """A SOAP fault as the Metadata API sends it: HTTP 500, faultcode sf:<CODE>."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:sf="{MD_NS}">'
        f"<soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode>"
        f"<faultstring>{escape(f'{code}: {message}')}</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status=500, content_type="text/xml; charset=utf-8")


def ok(body: str) -> Response:
    return Response(envelope(body), content_type="text/xml; charset=utf-8")


def tag(name: str, value) -> str:
    if value is None:
        return f'<{name} xsi:nil="true"/>'
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(str(value))}</{name}>"


def md(el, name):
    found = el.find(f"{{{MD_NS}}}{name}")
    return found.text.strip() if found is not None and found.text else None


def soap(app, request, version, org_id=None):
    try:
        doc = etree.fromstring(request.get_data(), etree.XMLParser(resolve_entities=False,
                                                                  no_network=True))
    except etree.XMLSyntaxError as exc:
        return fault("INVALID_XML", f"The SOAP request is not well-formed XML: {exc}")
    session = doc.find(f".//{{{MD_NS}}}SessionHeader/{{{MD_NS}}}sessionId")
    if session is None or not app.valid_token((session.text or "").strip()):
        return fault("INVALID_SESSION_ID",
                     "Invalid Session ID found in SessionHeader: Illegal Session")
    body = doc.find(f"{{{SOAP_NS}}}Body")
    call = body[0] if body is not None and len(body) else None
    if call is None:
        return fault("INVALID_SOAP_REQUEST", "The SOAP Body names no Metadata API operation")
    name = etree.QName(call).localname
    handler = OPERATIONS.get(name)
    if handler is None:
        return fault("NOT_IMPLEMENTED",
                     f"The Metadata API operation {name} is not implemented by localorg")
    try:
        return ok(handler(app, call, version))
    except SalesforceError as exc:
        return fault(exc.code, exc.message)


# ----- deploy -------------------------------------------------------------------------------


class Component:
    def __init__(self, kind, full_name, file_name, body):
        self.kind, self.full_name, self.file_name, self.body = kind, full_name, file_name, body
        self.problems = []  # (problem, problemType, line)
        self.created = True


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


def check(comp: Component, org) -> None:
    """Fill comp.problems: schema errors, unsupported types, packages that can't be installed."""
    from metacheck import schema

    if comp.kind not in FOLDERS:
        comp.problems.append((f"Metadata type {comp.kind} is not supported by localorg (the "
                              "embedded local org); deploy it to a real org.", "Error", None))
        return
    for finding in schema.validate(comp.body, kind=comp.kind, filename=comp.file_name):
        if finding.severity == "error":
            where = f" ({finding.element})" if finding.element else ""
            comp.problems.append((finding.message + where, "Error", finding.line))
    if comp.problems:
        return
    root = etree.fromstring(comp.body)
    if comp.kind == "InstalledPackage":
        wanted = md(root, "versionNumber")
        have = {p["namespace"]: str(p["version"]) for p in org.installed_packages()}
        if have.get(comp.full_name) != wanted:
            now_text = f"version {have[comp.full_name]} is installed" if comp.full_name in have \
                else "it is not installed"
            comp.problems.append((
                f"The local org cannot install packages: {comp.full_name} {wanted} was requested "
                f"and {now_text}. Start the local org with that version (python -m localorg "
                "start --fresh --calendly-version ...), or install it in a real org.",
                "Error", None))
        else:
            comp.created = False
    elif comp.kind == "Flow":
        comp.created = comp.full_name not in {f["name"] for f in org.flows()}
    elif comp.kind == "CustomObject":
        try:
            org.describe(comp.full_name)
            comp.created = False
        except SalesforceError:
            if not comp.full_name.endswith("__c"):
                comp.problems.append((f"Cannot create standard object {comp.full_name}; "
                                      "custom objects end with __c.", "Error", None))
    else:
        comp.created = org.component(comp.kind, comp.full_name) is None


def apply(comp: Component, org) -> None:
    root = etree.fromstring(comp.body)
    if comp.kind == "Flow":
        org.deploy_flow(comp.full_name, comp.body)
    elif comp.kind == "CustomObject":
        if comp.full_name.endswith("__c"):
            label, plural = md(root, "label") or "", md(root, "pluralLabel") or ""
            org.define_object(comp.full_name, label, plural)
        for field_el in root.findall(f"{{{MD_NS}}}fields"):
            org.add_custom_field(comp.full_name, field_from_xml(field_el))
    elif comp.kind in STORED_TYPES:
        org.save_component(comp.kind, comp.full_name, comp.file_name, comp.body)


def deploy_status(comps: list, started: str, job_id: str, error: str | None = None,
                  check_only: bool = False) -> dict:
    failed = [c for c in comps if c.problems]
    success = not failed and error is None
    return {"id": job_id, "comps": comps, "started": started, "completed": now(),
            "status": "Succeeded" if success else "Failed", "success": success,
            "error": error, "check_only": check_only}


def deploy(app, call, version):
    started = now()
    data = md(call, "ZipFile")
    options = call.find(f"{{{MD_NS}}}DeployOptions")
    check_only = options is not None and md(options, "checkOnly") == "true"
    comps, error = [], None
    try:
        _, files = read_zip(base64.b64decode(data or ""))
        comps = components_of(files)
        destructive = [n for n in files if n.startswith("destructiveChanges")]
        for name in destructive:
            manifest = etree.fromstring(files[name])
            if manifest.findall(f".//{{{MD_NS}}}members"):
                comp = Component("DestructiveChanges", name, name, files[name])
                comp.problems.append(("Deleting components (destructiveChanges) is not "
                                      "implemented by localorg.", "Error", None))
                comps.append(comp)
        for comp in comps:
            check(comp, app.org)
        if not any(c.problems for c in comps) and not check_only:
            current = None
            try:
                with app.org.transaction():  # all or none: rollbackOnError
                    # objects and fields first: flows and layouts in the same zip use them
                    for current in sorted(comps, key=lambda c: c.kind != "CustomObject"):
                        apply(current, app.org)
                    remember_package(app.org, files["package.xml"])
            except SalesforceError as exc:
                current.problems.append((exc.message, "Error", None))
    except (zipfile.BadZipFile, ValueError, SalesforceError, etree.XMLSyntaxError) as exc:
        error = f"The deploy zip could not be read: {getattr(exc, 'message', exc)}"
    job_id = app.jobs.new_id("0Af")
    app.jobs.put(job_id, deploy_status(comps, started, job_id, error, check_only))
    return (f"<deployResponse><result>{tag('done', True)}{tag('id', job_id)}"
            f"{tag('state', 'Completed')}</result></deployResponse>")


def component_xml(comp: Component, success: bool) -> str:
    out = [tag("changed", success), tag("componentType", comp.kind),
           tag("created", success and comp.created), tag("createdDate", now()),
           tag("deleted", False), tag("fileName", comp.file_name),
           tag("fullName", comp.full_name)]
    if not success:
        problem, kind, line = comp.problems[0]
        if line:
            out.append(tag("lineNumber", line))
        out += [tag("problem", "; ".join(p[0] for p in comp.problems)), tag("problemType", kind)]
    out.append(tag("success", success))
    name = "componentSuccesses" if success else "componentFailures"
    return f"<{name}>{''.join(out)}</{name}>"


def check_deploy_status(app, call, version):
    job_id = md(call, "asyncProcessId") or ""
    result = app.jobs.get(job_id)
    if not result or "comps" not in result:
        raise SalesforceError("INVALID_ID_FIELD", f"Invalid deploy id: {job_id}")
    comps, success = result["comps"], result["success"]
    failures = [c for c in comps if c.problems]
    details = "".join(component_xml(c, False) for c in failures)
    if not failures and result["error"] is None:
        details += "".join(component_xml(c, True) for c in comps)
        details += ("<componentSuccesses>" + tag("changed", True) + tag("componentType", "")
                    + tag("created", False) + tag("deleted", False)
                    + tag("fileName", "package.xml") + tag("fullName", "package.xml")
                    + tag("success", True) + "</componentSuccesses>")
    details += ("<runTestResult><numFailures>0</numFailures><numTestsRun>0</numTestsRun>"
                "<totalTime>0.0</totalTime></runTestResult>")
    body = [tag("checkOnly", result["check_only"]), tag("completedDate", result["completed"]),
            tag("createdBy", app.org.default_user_id), tag("createdByName", "Local Admin"),
            tag("createdDate", result["started"]), f"<details>{details}</details>",
            tag("done", True)]
    if result["error"]:
        body += [tag("errorMessage", result["error"]), tag("errorStatusCode", "UNKNOWN_EXCEPTION")]
    body += [tag("id", result["id"]), tag("ignoreWarnings", True),
             tag("lastModifiedDate", result["completed"]),
             tag("numberComponentErrors", len(failures)),
             tag("numberComponentsDeployed", 0 if failures else len(comps)),
             tag("numberComponentsTotal", len(comps)), tag("numberTestErrors", 0),
             tag("numberTestsCompleted", 0), tag("numberTestsTotal", 0),
             tag("rollbackOnError", True), tag("runTestsEnabled", False),
             tag("startDate", result["started"]), tag("status", result["status"]),
             tag("success", success)]
    result_xml = "".join(body)
    return f"<checkDeployStatusResponse><result>{result_xml}</result></checkDeployStatusResponse>"


def cancel_deploy(app, call, version):
    job_id = md(call, "String") or md(call, "asyncProcessId") or ""
    if app.jobs.get(job_id) is None:
        raise SalesforceError("INVALID_ID_FIELD", f"Invalid deploy id: {job_id}")
    # Deploys finish before deploy() returns, so there is never anything left to cancel.
    return (f"<cancelDeployResponse><result>{tag('done', True)}{tag('id', job_id)}"
            "</result></cancelDeployResponse>")


# ----- retrieve -----------------------------------------------------------------------------


def source_of(org, kind: str, name: str) -> bytes | None:
    if kind == "Flow":
        try:
            return org.flow_xml(name)
        except SalesforceError:
            return None
    if kind in STORED_TYPES:
        found = org.component(kind, name)
        if found is not None:
            return found["body"]
        if kind == "Profile" and name == "Admin":
            return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Profile xmlns="{MD_NS}">\n'
                    "    <custom>false</custom>\n    <userLicense>Salesforce</userLicense>\n"
                    "</Profile>\n").encode()
    return None


def names_of(org, kind: str) -> list:
    if kind == "Flow":
        return [f["name"] for f in org.flows()]
    if kind in STORED_TYPES:
        return [c["full_name"] for c in org.components(kind)]
    return []


def collect(org, manifest) -> tuple:
    """Files, messages and file properties for the types/members of a package manifest."""
    files, messages, props = {}, [], []
    for types in manifest.findall(f"{{{MD_NS}}}types"):
        kind = md(types, "name")
        members = [m.text.strip() for m in types.findall(f"{{{MD_NS}}}members") if m.text]
        if kind not in ("Flow", *STORED_TYPES):
            messages.append((f"{kind}", f"Retrieving metadata type {kind} is not supported by "
                             "localorg (the embedded local org)"))
            continue
        if "*" in members:
            members = sorted(set(members) - {"*"} | set(names_of(org, kind)))
        folder, suffix = FOLDERS[kind]
        for member in members:
            body = source_of(org, kind, member)
            path = f"{folder}/{member}.{suffix}"
            if body is None:
                messages.append((path, f"Entity of type '{kind}' named '{member}' cannot be "
                                 "found"))
                continue
            files[path] = body
            props.append((kind, member, path))
    return files, messages, props


def retrieve(app, call, version):
    """Unpackaged (a package.xml) or packageNames: the org's unmanaged packages, which deploys
    of a package.xml with <fullName> create, as on Salesforce. Managed packages' components
    are not known to the local org."""
    request = call.find(f"{{{MD_NS}}}retrieveRequest")
    unpackaged = request.find(f"{{{MD_NS}}}unpackaged") if request is not None else None
    names = [n.text.strip() for n in request.findall(f"{{{MD_NS}}}packageNames") if n.text] \
        if request is not None else []
    job_id = app.jobs.new_id("09S")
    if unpackaged is None and len(names) != 1:
        raise SalesforceError("NOT_IMPLEMENTED", "retrieve needs <unpackaged> or exactly one "
                              "<packageNames> in localorg")
    if unpackaged is not None:
        folder = "unpackaged"
        manifest = etree.Element(f"{{{MD_NS}}}Package", nsmap={None: MD_NS})
        manifest.extend(deepcopy(child) for child in unpackaged)
    else:
        folder = names[0]
        stored = app.org.component(PACKAGE_TYPE, folder)
        if stored is None:
            installed = {p["namespace"] for p in app.org.installed_packages()}
            error = (("NOT_IMPLEMENTED", f"Retrieving the components of managed package {folder}"
                      " is not implemented by localorg") if folder in installed else
                     ("INVALID_CROSS_REFERENCE_KEY",
                      f"INVALID_CROSS_REFERENCE_KEY: No package named '{folder}' found"))
            app.jobs.put(job_id, {"zip": None, "error": error, "id": job_id})
            return (f"<retrieveResponse><result>{tag('done', True)}{tag('id', job_id)}"
                    f"{tag('state', 'Completed')}</result></retrieveResponse>")
        manifest = etree.fromstring(stored["body"])
    files, messages, props = collect(app.org, manifest)
    package_xml = etree.tostring(manifest, xml_declaration=True, encoding="UTF-8",
                                 pretty_print=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{folder}/package.xml", package_xml)
        for path, body in files.items():
            archive.writestr(f"{folder}/{path}", body)
    app.jobs.put(job_id, {"zip": buf.getvalue(), "messages": messages, "props": props,
                          "id": job_id, "error": None})
    return (f"<retrieveResponse><result>{tag('done', True)}{tag('id', job_id)}"
            f"{tag('state', 'Completed')}</result></retrieveResponse>")


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


def check_status(app, call, version):
    job_id = md(call, "asyncProcessId") or ""
    if app.jobs.get(job_id) is None:
        raise SalesforceError("INVALID_ID_FIELD", f"Invalid async process id: {job_id}")
    return (f"<checkStatusResponse><result>{tag('done', True)}{tag('id', job_id)}"
            f"{tag('state', 'Completed')}</result></checkStatusResponse>")


def file_property(app, kind, name, path) -> str:
    stamp = now()
    return ("<fileProperties>" + tag("createdById", app.org.default_user_id)
            + tag("createdByName", "Local Admin") + tag("createdDate", stamp)
            + tag("fileName", path) + tag("fullName", name) + tag("id", "")
            + tag("lastModifiedById", app.org.default_user_id)
            + tag("lastModifiedByName", "Local Admin") + tag("lastModifiedDate", stamp)
            + tag("manageableState", "unmanaged") + tag("type", kind) + "</fileProperties>")


def check_retrieve_status(app, call, version):
    job_id = md(call, "asyncProcessId") or ""
    result = app.jobs.get(job_id)
    if not result or "zip" not in result:
        raise SalesforceError("INVALID_ID_FIELD", f"Invalid retrieve id: {job_id}")
    if result["error"]:
        return ("<checkRetrieveStatusResponse><result>" + tag("done", True)
                + tag("errorMessage", result["error"][1])
                + tag("errorStatusCode", result["error"][0])
                + tag("id", job_id) + tag("status", "Failed") + tag("success", False)
                + "</result></checkRetrieveStatusResponse>")
    props = "".join(file_property(app, *p) for p in result["props"])
    msgs = "".join(f"<messages>{tag('fileName', f)}{tag('problem', p)}</messages>"
                   for f, p in result["messages"])
    return ("<checkRetrieveStatusResponse><result>" + tag("done", True) + props
            + tag("id", job_id) + msgs + tag("status", "Succeeded") + tag("success", True)
            + tag("zipFile", base64.b64encode(result["zip"]).decode())
            + "</result></checkRetrieveStatusResponse>")


# ----- list / read --------------------------------------------------------------------------


def list_metadata(app, call, version):
    out = []
    for query in call.findall(f"{{{MD_NS}}}queries"):
        kind = md(query, "type")
        if kind not in ("Flow", *STORED_TYPES):
            raise SalesforceError("NOT_IMPLEMENTED",
                                  f"listMetadata of type {kind} is not implemented by localorg")
        folder, suffix = FOLDERS[kind]
        for name in names_of(app.org, kind):
            path = f"{folder}/{name}.{suffix}"
            out.append(file_property(app, kind, name, path).replace("fileProperties", "result"))
    return f"<listMetadataResponse>{''.join(out)}</listMetadataResponse>"


def read_metadata(app, call, version):
    kind = md(call, "type")
    if kind not in ("Flow", *STORED_TYPES):
        raise SalesforceError("NOT_IMPLEMENTED",
                              f"readMetadata of type {kind} is not implemented by localorg")
    records = []
    for el in call.findall(f"{{{MD_NS}}}fullNames"):
        name = (el.text or "").strip()
        body = source_of(app.org, kind, name)
        if body is None:
            continue  # Salesforce returns an empty record for missing names; we omit it
        root = etree.fromstring(body)
        inner = "".join(etree.tostring(child, encoding="unicode") for child in root
                        if etree.QName(child).localname != "fullName")
        records.append(f'<records xsi:type="{kind}">{tag("fullName", name)}{inner}</records>')
    return f"<readMetadataResponse><result>{''.join(records)}</result></readMetadataResponse>"


OPERATIONS = {
    "deploy": deploy,
    "checkDeployStatus": check_deploy_status,
    "cancelDeploy": cancel_deploy,
    "retrieve": retrieve,
    "checkStatus": check_status,
    "checkRetrieveStatus": check_retrieve_status,
    "listMetadata": list_metadata,
    "readMetadata": read_metadata,
}
