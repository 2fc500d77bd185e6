"""Tooling API (/services/data/vXX.X/tooling) of the local org: its HTTP side.

The objects are the backend's read-only virtual objects (`localorg.backend.tooling`), queried by
the store's own engine (`localorg.backend.query`). Here: the query response, `Metadata` (the
flow as JSON, see `mdjson`) of a one-row query, `GET`/`PATCH sobjects/FlowDefinition/<Id>`
(`{"Metadata": {"activeVersionNumber": N}}` activates version N; 0 or null deactivates), and
`POST sobjects/Flow` with {"FullName", "Metadata"}, which adds a flow version (checked like a
Metadata API deploy: schema, field references, formulas, Get Records limits).
"""

import re

from lxml import etree
from werkzeug.wrappers import Response

from localorg import soql
from localorg.backend import query as engine
from localorg.backend import tooling
from localorg.backend.soql_run import locate
from localorg.errors import NotImplementedInLocalOrg, SalesforceError
from localorg.server.responses import HttpError, json_response

NAME_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9]*__)?[A-Za-z][A-Za-z0-9_]*$")


def url_maker(version: str):
    return lambda sobject, rid: f"/services/data/v{version}/tooling/sobjects/{sobject}/{rid}"


def run_query(org, text: str, version: str) -> dict:
    query = soql.parse(text)
    sobject = next((k for k in tooling.OBJECTS if k.lower() == query.sobject.lower()), None)
    if sobject is None:
        raise soql.invalid_type(query)
    if query.usage:
        raise NotImplementedInLocalOrg(f"SOQL FOR {query.usage} in Tooling API queries")
    catalog = tooling.Catalog(org)
    try:
        with org.transaction() as txn:
            resolver, paths, rows = engine.find(
                txn, sobject, [] if query.count else query.fields, query.where,
                query.order_by, query.limit, query.offset, catalog=catalog)
            heavy = any(resolver.check(path)[-1] in tooling.ONE_ROW_ONLY
                        for path, _ in query.refs)
    except SalesforceError as exc:
        raise locate(query, exc) from None
    if query.count:
        return {"size": len(rows), "totalSize": len(rows), "done": True, "records": [],
                "entityTypeName": sobject}
    if heavy and len(rows) > 1:
        raise SalesforceError(
            "MALFORMED_QUERY", "When retrieving results with Metadata or FullName fields, the "
            "query qualifications must specify no more than one row for retrieval. Result size: "
            f"{len(rows)}")
    records = []
    for row in rows:
        record = resolver.project(row, paths, url_maker(version))
        if "Metadata" in record:
            record["Metadata"] = metadata_of(org, catalog, sobject, row)
        records.append(record)
    # An empty result names no entity type (recorded:GET_tooling_query_empty_result.json).
    return {"size": len(records), "totalSize": len(records), "done": True, "queryLocator": None,
            "entityTypeName": sobject if records else None, "records": records}


def metadata_of(org, catalog, sobject: str, row: dict) -> dict:
    """The Metadata JSON of a Flow or FlowDefinition row."""
    from localorg.server import mdjson

    if sobject == "Flow":
        name = catalog.fetch(row["DefinitionId"])[1]["FullName"]
        xml = org.flow_xml(name, row["VersionNumber"])
        return mdjson.to_json(etree.fromstring(xml), "Flow")
    active = catalog.fetch(row["ActiveVersionId"])[1] if row["ActiveVersionId"] else None
    return {**mdjson.to_json(etree.Element("FlowDefinition"), "FlowDefinition"),
            "activeVersionNumber": (active or {}).get("VersionNumber"),
            "masterLabel": row["MasterLabel"],
            "urls": None}  # fidelity: Tooling API / FlowDefinition Metadata


def query(app, request, version):
    return json_response(run_query(app.org, request.args.get("q", ""), version))


def _definition(catalog, record_id: str) -> dict:
    for definition in catalog.rows("FlowDefinition"):
        if definition["Id"][:15] == record_id[:15]:
            return definition
    raise HttpError(404, "NOT_FOUND", "The requested resource does not exist")


def record(app, request, version, sobject, record_id):
    if sobject != "FlowDefinition":
        raise NotImplementedInLocalOrg(f"{request.method} tooling/sobjects/{sobject}/<Id>")
    catalog = tooling.Catalog(app.org)
    definition = _definition(catalog, record_id)
    if request.method == "GET":
        resolver = engine.Resolver(catalog, catalog.describe(sobject))
        paths = [resolver.check(f) for f in tooling.fields(sobject)]
        return json_response(resolver.project(definition, paths, url_maker(version)))
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
    found = flow_problems(app.org, element)
    if found:
        raise HttpError(400, "FIELD_INTEGRITY_EXCEPTION", "; ".join(found))
    number = app.org.deploy_flow(name, xml)
    new_id = tooling.stable_id("301", f"{name}#{number}")
    return json_response({"id": new_id, "success": True, "errors": [], "warnings": [],
                          "infos": []}, 201)


def flow_problems(org, root) -> list:
    """What a Metadata API deploy of this flow would report (unknown fields, formulas, limits);
    without such a fault, raises NOT_IMPLEMENTED (501) for a formula function the local runtime
    cannot run."""
    from localorg.backend import deploy, flow_checks, flow_refs

    problems = [problem for problem, _ in flow_refs.problems(
        root, lambda obj, field: deploy.field_exists(org, {}, obj, field))
        + flow_checks.faults(root)]
    lacking = None if problems else flow_checks.not_implemented(root)
    if lacking is not None:  # only once the flow has no fault of its own
        raise lacking
    return problems
