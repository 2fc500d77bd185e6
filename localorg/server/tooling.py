"""Tooling API (/services/data/vXX.X/tooling) of the local org.

Objects (shapes from the Tooling API Developer Guide, atlas.en-us.api_tooling.meta):
- InstalledSubscriberPackage, SubscriberPackage, SubscriberPackageVersion — the packages the org
  reports installed (`Org.installed_packages()`), as `OrgConfig.installed_packages` queries them
  (tooling_api_objects_installedsubscriberpackage.htm, ..._subscriberpackageversion.htm).
- CustomObject (DeveloperName, NamespacePrefix, ManageableState), which CumulusCI's
  update_admin_profile queries for packaged objects (tooling_api_objects_customobject.htm).
- FlowDefinition and Flow — from the store's flow versions (tooling_api_objects_flowdefinition.htm,
  tooling_api_objects_flow.htm). `PATCH sobjects/FlowDefinition/<Id>` with
  `{"Metadata": {"activeVersionNumber": N}}` activates version N; 0 or null deactivates.

  `Metadata` (the flow as JSON, see `mdjson`) and `FullName` can be selected when the query
  returns at most one row, as on Salesforce. `POST sobjects/Flow` with {"FullName", "Metadata"}
  adds a flow version (schema-checked like a Metadata API deploy).

They are rows built on each call from the store (the store keeps flows and packages, not these
Tooling records), filtered with the store's own condition semantics (`conditions.evaluate`).
"""

import hashlib
import re

from lxml import etree
from werkzeug.wrappers import Response

from localorg import ids, soql
from localorg.conditions import evaluate, fold
from localorg.errors import NotImplementedInLocalOrg, SalesforceError
from localorg.server.responses import HttpError, json_response

# Field names of each Tooling object; relationships map to the object they point at.
FIELDS = {
    "InstalledSubscriberPackage": ["Id", "SubscriberPackageId", "SubscriberPackageVersionId"],
    "SubscriberPackage": ["Id", "Name", "NamespacePrefix", "Description", "IsPackageValid"],
    "SubscriberPackageVersion": [
        "Id", "Name", "SubscriberPackageId", "MajorVersion", "MinorVersion", "PatchVersion",
        "BuildNumber", "IsBeta", "IsManaged", "ReleaseState", "Package2ContainerOptions",
    ],
    "FlowDefinition": [
        "Id", "DeveloperName", "MasterLabel", "NamespacePrefix", "ActiveVersionId",
        "LatestVersionId", "Description", "ManageableState",
    ],
    "CustomObject": ["Id", "DeveloperName", "NamespacePrefix", "ManageableState"],
    "Flow": [
        "Id", "DefinitionId", "MasterLabel", "VersionNumber", "Status", "ProcessType",
        "ManageableState", "Description", "ApiVersion",
    ],
}
RELATIONSHIPS = {
    "InstalledSubscriberPackage": {
        "SubscriberPackage": "SubscriberPackage",
        "SubscriberPackageVersion": "SubscriberPackageVersion",
    },
    "FlowDefinition": {"ActiveVersion": "Flow", "LatestVersion": "Flow"},
    "Flow": {"Definition": "FlowDefinition"},
    "SubscriberPackageVersion": {"SubscriberPackage": "SubscriberPackage"},
}
ONE_ROW_ONLY = ("Metadata", "FullName")  # Flow and FlowDefinition only
NAME_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9]*__)?[A-Za-z][A-Za-z0-9_]*$")


def stable_id(prefix: str, key: str) -> str:
    """An id that stays the same for the same thing across calls and restarts."""
    return ids.make_id(prefix, int(hashlib.sha1(key.encode()).hexdigest()[:12], 16) % 62**9)


def _version_parts(text: str):
    beta = "b" in text
    number, _, build = text.partition("b")
    parts = [int(p) for p in number.split(".")] + [0, 0]
    return parts[0], parts[1], parts[2], int(build or 0), beta


def package_rows(org) -> dict:
    packages, versions, installs = [], [], []
    for pkg in org.installed_packages():
        ns = pkg["namespace"]
        major, minor, patch, build, beta = _version_parts(str(pkg["version"]))
        sp = {"Id": stable_id("033", ns), "Name": pkg.get("name") or ns, "NamespacePrefix": ns,
              "Description": None, "IsPackageValid": True}
        spv = {"Id": stable_id("04t", f"{ns}@{pkg['version']}"),
               "Name": f"{sp['Name']} {pkg['version']}", "SubscriberPackageId": sp["Id"],
               "MajorVersion": major, "MinorVersion": minor, "PatchVersion": patch,
               "BuildNumber": build, "IsBeta": beta, "IsManaged": True, "ReleaseState":
               "Beta" if beta else "Released", "Package2ContainerOptions": "Managed",
               "SubscriberPackage": sp}
        isp = {"Id": stable_id("0A3", ns), "SubscriberPackageId": sp["Id"],
               "SubscriberPackageVersionId": spv["Id"], "SubscriberPackage": sp,
               "SubscriberPackageVersion": spv}
        packages.append(sp)
        versions.append(spv)
        installs.append(isp)
    return {"SubscriberPackage": packages, "SubscriberPackageVersion": versions,
            "InstalledSubscriberPackage": installs}


def flow_rows(org) -> dict:
    definitions, flows = [], []
    for item in org.flows():
        name = item["name"]
        def_id = stable_id("300", name)
        by_version = {}
        for v in item["versions"]:
            by_version[v["version"]] = {
                "Id": stable_id("301", f"{name}#{v['version']}"), "DefinitionId": def_id,
                "MasterLabel": item.get("label"), "VersionNumber": v["version"],
                "Status": v["status"], "ProcessType": item.get("process_type"),
                "ManageableState": "unmanaged", "Description": None, "ApiVersion": None,
                "FullName": f"{name}-{v['version']}",
            }
        active = by_version.get(item["active_version"])
        latest = by_version.get(item["latest_version"])
        namespace, _, developer_name = name.rpartition("__") if "__" in name else ("", "", name)
        definition = {
            "Id": def_id, "DeveloperName": developer_name, "MasterLabel": item.get("label"),
            "NamespacePrefix": namespace or None,
            "ActiveVersionId": active["Id"] if active else None,
            "LatestVersionId": latest["Id"] if latest else None,
            "Description": None, "ManageableState": "unmanaged",
            "ActiveVersion": active, "LatestVersion": latest,
            "FullName": name,
        }
        for flow in by_version.values():
            flow["Definition"] = definition
            flows.append(flow)
        definitions.append(definition)
    return {"FlowDefinition": definitions, "Flow": flows}


def custom_object_rows(org) -> list:
    """Custom objects; those of an installed package's namespace are its ("installed")."""
    namespaces = {p["namespace"] for p in org.installed_packages()}
    rows = []
    for odef in org.sobjects():
        if not odef.custom:
            continue
        base_name = odef.name[: -len("__c")]
        namespace, _, developer_name = base_name.rpartition("__")
        rows.append({
            "Id": stable_id("01I", odef.name), "DeveloperName": developer_name,
            "NamespacePrefix": namespace or None,
            "ManageableState": "installed" if namespace in namespaces else "unmanaged",
        })
    return rows


def all_rows(org, sobject: str) -> list:
    if sobject in ("FlowDefinition", "Flow"):
        return flow_rows(org)[sobject]
    if sobject == "CustomObject":
        return custom_object_rows(org)
    return package_rows(org)[sobject]


def canonical(sobject: str, path: str, query, pos) -> list:
    """Canonical parts of a field path on a Tooling object; INVALID_FIELD when unknown."""
    parts, current, out = path.split("."), sobject, []
    for i, part in enumerate(parts):
        rels = RELATIONSHIPS.get(current, {})
        if i < len(parts) - 1:
            match = next((r for r in rels if r.lower() == part.lower()), None)
            if match is None:
                raise soql.invalid_field(query, path, pos, current, part)
            out.append(match)
            current = rels[match]
        else:
            names = FIELDS[current] + (list(ONE_ROW_ONLY) if current in ("Flow",
                                                                          "FlowDefinition") else [])
            match = next((f for f in names if f.lower() == part.lower()), None)
            if match is None:
                raise soql.invalid_field(query, path, pos, current, part)
            out.append(match)
    return out


def get_path(row: dict, parts: list):
    for part in parts:
        if row is None:
            return None
        row = row.get(part)
    return row


def project(sobject: str, row: dict, paths: list, version: str) -> dict:
    url = f"/services/data/v{version}/tooling/sobjects/{sobject}/{row['Id']}"
    out = {"attributes": {"type": sobject, "url": url}}
    for parts in paths:
        node, current, kind = out, row, sobject
        for part in parts[:-1]:
            kind = RELATIONSHIPS[kind][part]
            current = current.get(part) if current else None
            if current is None:
                node[part] = None
                break
            if part not in node:
                node[part] = {"attributes": {
                    "type": kind,
                    "url": f"/services/data/v{version}/tooling/sobjects/{kind}/{current['Id']}"}}
            node = node[part]
        else:
            node[parts[-1]] = current.get(parts[-1])
    return out


def run_query(org, text: str, version: str) -> dict:
    query = soql.parse(text)
    sobject = next((k for k in FIELDS if k.lower() == query.sobject.lower()), None)
    if sobject is None:
        raise soql.invalid_type(query)
    if query.usage:
        raise NotImplementedInLocalOrg(f"SOQL FOR {query.usage} in Tooling API queries")
    resolved = {}
    for path, pos in query.refs:
        resolved[path] = canonical(sobject, path, query, pos)
    rows = [r for r in all_rows(org, sobject)
            if evaluate(query.where, lambda f, r=r: get_path(r, resolved[f]))]
    for path, desc, nulls_last in reversed(query.order_by):
        present = [r for r in rows if get_path(r, resolved[path]) is not None]
        absent = [r for r in rows if get_path(r, resolved[path]) is None]
        present.sort(key=lambda r, p=resolved[path]: fold(get_path(r, p)), reverse=desc)
        rows = present + absent if nulls_last else absent + present
    rows = rows[query.offset or 0:]
    if query.limit is not None:
        rows = rows[:query.limit]
    if query.count:
        return {"size": len(rows), "totalSize": len(rows), "done": True, "records": [],
                "entityTypeName": sobject}
    heavy = [p for p in resolved.values() if p[-1] in ONE_ROW_ONLY]
    if heavy and len(rows) > 1:
        raise SalesforceError(
            "MALFORMED_QUERY", "When retrieving results with Metadata or FullName fields, the "
            "query qualifications must specify no more than one row for retrieval. Result size: "
            f"{len(rows)}")
    if heavy:
        rows = [with_metadata(org, sobject, r) for r in rows]
    records = [project(sobject, r, [resolved[f] for f in query.fields], version) for r in rows]
    # An empty result names no entity type (recorded:GET_tooling_query_empty_result.json).
    return {"size": len(records), "totalSize": len(records), "done": True, "queryLocator": None,
            "entityTypeName": sobject if records else None, "records": records}


def with_metadata(org, sobject: str, row: dict) -> dict:
    """The row with its Metadata JSON (and its related rows' when selected through them)."""
    from localorg.server import mdjson

    out = dict(row)
    if sobject == "Flow":
        name = row["Definition"]["FullName"]
        xml = org.flow_xml(name, row["VersionNumber"])
        out["Metadata"] = mdjson.to_json(etree.fromstring(xml), "Flow")
    else:
        definition = etree.Element("FlowDefinition")
        out["Metadata"] = {**mdjson.to_json(definition, "FlowDefinition"),
                           "activeVersionNumber": (row["ActiveVersion"] or {}).get(
                               "VersionNumber"),
                           "masterLabel": row["MasterLabel"],
                           "urls": None}  # fidelity: Tooling API / FlowDefinition Metadata
    return out


def query(app, request, version):
    return json_response(run_query(app.org, request.args.get("q", ""), version))


def _definition(app, record_id: str) -> dict:
    for definition in flow_rows(app.org)["FlowDefinition"]:
        if definition["Id"][:15] == record_id[:15]:
            return definition
    raise HttpError(404, "NOT_FOUND", "The requested resource does not exist")


def record(app, request, version, sobject, record_id):
    if sobject != "FlowDefinition":
        raise NotImplementedInLocalOrg(f"{request.method} tooling/sobjects/{sobject}/<Id>")
    definition = _definition(app, record_id)
    if request.method == "GET":
        body = project("FlowDefinition", definition,
                       [[f] for f in FIELDS["FlowDefinition"]], version)
        return json_response(body)
    payload = request.get_json(silent=True)
    meta = payload.get("Metadata") if isinstance(payload, dict) else None
    if not isinstance(meta, dict) or "activeVersionNumber" not in meta:
        raise HttpError(400, "INVALID_FIELD", 'Send {"Metadata": {"activeVersionNumber": N}}; '
                        "the local org updates nothing else on a FlowDefinition.")
    extra = set(payload) - {"Metadata"} | set(meta) - {"activeVersionNumber"}
    if extra:
        raise NotImplementedInLocalOrg(
            f"updating FlowDefinition fields {sorted(extra)} (only activeVersionNumber)")
    number = meta["activeVersionNumber"]
    if number is not None and (not isinstance(number, int) or isinstance(number, bool)
                               or number < 0):
        raise HttpError(400, "INVALID_FIELD",
                        f"activeVersionNumber must be a version number or 0/null, got {number!r}")
    name = definition["FullName"]
    try:
        app.org.activate_flow(name, number or None)
    except SalesforceError as exc:
        if exc.code == "NOT_FOUND":
            raise HttpError(400, "FIELD_INTEGRITY_EXCEPTION", exc.message) from None
        raise
    return Response(status=204)


def create(app, request, version, sobject):
    """POST tooling/sobjects/Flow {"FullName": name, "Metadata": {...}}: a new flow version."""
    from localorg.server import mdjson

    if sobject != "Flow":
        raise NotImplementedInLocalOrg(f"creating Tooling {sobject} records "
                                       f"(POST tooling/sobjects/{sobject})")
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise HttpError(400, "JSON_PARSER_ERROR", 'Send {"FullName": ..., "Metadata": {...}}')
    extra = sorted(set(payload) - {"FullName", "Metadata"})
    if extra:
        raise HttpError(400, "JSON_PARSER_ERROR", f"Unrecognized fields {extra} for Flow; send "
                        "FullName and Metadata")
    name = payload.get("FullName")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise HttpError(400, "REQUIRED_FIELD_MISSING" if not name else "INVALID_FIELD",
                        f"FullName must be the flow's API name, got {name!r}", ["FullName"])
    element = mdjson.to_xml(payload.get("Metadata") or {}, "Flow")
    xml = etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    from metacheck import schema

    problems = [f for f in schema.validate(xml, kind="Flow", filename=f"flows/{name}.flow")
                if f.severity == "error"]
    if problems:
        raise HttpError(400, "FIELD_INTEGRITY_EXCEPTION", "; ".join(
            f"{p.message} ({p.element})" if p.element else p.message for p in problems))
    number = app.org.deploy_flow(name, xml)
    new_id = stable_id("301", f"{name}#{number}")
    return json_response({"id": new_id, "success": True, "errors": [], "warnings": [],
                          "infos": []}, 201)
