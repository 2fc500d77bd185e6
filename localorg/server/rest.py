"""REST API (/services/data) of the local org: versions, describe, CRUD, Collections, query.

Shapes follow the REST API Developer Guide
(developer.salesforce.com/docs/atlas.en-us.api_rest.meta):
resources_versions.htm, resources_describeGlobal.htm, resources_sobject_describe.htm,
dome_sobject_create.htm (201 {"id","success","errors"}), resources_composite_sobjects_collections
(per-record {"id","success","errors":[{"statusCode","message","fields"}]}, max 200 records,
allOrNone), resources_query.htm / dome_query.htm (totalSize, done, nextRecordsUrl
"/services/data/vXX.X/query/<locator>-<n>", 2,000 rows a page unless `Sforce-Query-Options:
batchSize=` asks for 200-2,000).
"""

import json

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from localorg import ids
from localorg.backend import collections, soql_run
from localorg.backend.collections import (
    MAX_COLLECTION,
    READ_ONLY_OBJECTS,
    UNDELETABLE_OBJECTS,
    check_writable,
    is_id_lookup,
)
from localorg.conditions import Cmp
from localorg.errors import NotImplementedInLocalOrg, SalesforceError
from localorg.server.api_versions import API_VERSIONS, release_label
from localorg.server.responses import HttpError, json_response

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "datetime": "xsd:dateTime",
    "date": "xsd:date",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
}


# ----- bodies -------------------------------------------------------------------------------


def read_json(request: Request):
    try:
        return json.loads(request.get_data(as_text=True) or "null")
    except ValueError as exc:
        message = f"The request body is not valid JSON: {exc}"
        raise HttpError(400, "JSON_PARSER_ERROR", message) from None


def base(version: str) -> str:
    return f"/services/data/v{version}"


def record_url(version: str, sobject: str, record_id: str) -> str:
    return f"{base(version)}/sobjects/{sobject}/{record_id}"


def with_attributes(version: str, sobject: str, record: dict) -> dict:
    """A record as the REST API returns it: `attributes` first, parents likewise."""
    url_type = (record.get("attributes") or {}).get("urlType", sobject)
    out = {"attributes": {"type": sobject}}
    if record.get("Id"):
        out["attributes"]["url"] = record_url(version, url_type, record["Id"])
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "attributes" in value:
            value = with_attributes(version, value["attributes"]["type"], value)
        out[key] = value
    return out


# ----- identity and discovery ---------------------------------------------------------------


def userinfo(app, request, **_):
    """OAuth 2.0 userinfo (help.salesforce.com: "UserInfo Endpoint") of the running user."""
    org = app.org
    with org.transaction() as txn:
        user = txn.retrieve("User", org.default_user_id)
    base_url = app.instance_url or request.host_url.rstrip("/")
    return json_response(
        {
            "sub": f"{base_url}/id/{org.org_id}/{user['Id']}",
            "user_id": user["Id"],
            "organization_id": org.org_id,
            "preferred_username": user["Username"],
            "nickname": user.get("Alias"),
            "name": user.get("Name"),
            "email": user["Email"],
            "email_verified": True,
            "given_name": user.get("FirstName"),
            "family_name": user.get("LastName"),
            "zoneinfo": user.get("TimeZoneSidKey"),
            "locale": user.get("LocaleSidKey"),
            "language": user.get("LanguageLocaleKey"),
            "active": bool(user.get("IsActive")),
            "user_type": "STANDARD",
            "is_app_installed": True,
            "urls": {
                "rest": f"{base_url}/services/data/v{{version}}/",
                "tooling_rest": f"{base_url}/services/data/v{{version}}/tooling/",
                "metadata": f"{base_url}/services/Soap/m/{{version}}/{org.org_id}",
                "sobjects": f"{base_url}/services/data/v{{version}}/sobjects/",
                "query": f"{base_url}/services/data/v{{version}}/query/",
            },
        }
    )


def versions(app, request, **_):
    return json_response(
        [{"label": release_label(v), "url": base(v), "version": v} for v in API_VERSIONS]
    )


def resources(app, request, version):
    b = base(version)
    return json_response(
        {
            "sobjects": f"{b}/sobjects",
            "query": f"{b}/query",
            "queryAll": f"{b}/queryAll",
            "composite": f"{b}/composite",
            "tooling": f"{b}/tooling",
            "limits": f"{b}/limits",
        }
    )


def limits(app, request, version):
    raise NotImplementedInLocalOrg("the org limits resource (/limits); see localorg.limits for "
                                   "the per-transaction governor limits it enforces")


# The keys of an object in the global describe (recorded:GET_sobjects_global_describe.json).
GLOBAL_KEYS = (
    "activateable", "associateEntityType", "associateParentEntity", "createable", "custom",
    "customSetting", "deepCloneable", "deletable", "deprecatedAndHidden", "feedEnabled",
    "hasSubtypes", "isInterface", "isSubtype", "keyPrefix", "label", "labelPlural", "layoutable",
    "mergeable", "mruEnabled", "name", "queryable", "replicateable", "retrieveable",
    "searchable", "triggerable", "undeletable", "updateable")


def object_flags(odef) -> dict:
    """The object's global describe keys."""
    if odef.flags is not None:  # a standard object: its describe data (localorg/describes)
        return {k: odef.flags.get(k) for k in GLOBAL_KEYS}
    writable = odef.name not in READ_ONLY_OBJECTS
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": writable,
        "custom": odef.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": writable and odef.name not in UNDELETABLE_OBJECTS,
        "deprecatedAndHidden": False,
        "feedEnabled": False,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": odef.key_prefix,
        "label": odef.label,
        "labelPlural": odef.label_plural,
        "layoutable": True,
        "mergeable": odef.name in ("Contact", "Lead"),
        "mruEnabled": odef.has("LastViewedDate"),
        "name": odef.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": odef.name not in READ_ONLY_OBJECTS,
        "triggerable": True,
        "undeletable": False,
        "updateable": writable,
    }


def object_urls(version, odef) -> dict:
    b = f"{base(version)}/sobjects/{odef.name}"
    return {"sobject": b, "describe": f"{b}/describe", "rowTemplate": f"{b}/{{ID}}"}


def describe_global(app, request, version):
    return json_response(
        {
            "encoding": "UTF-8",
            "maxBatchSize": MAX_COLLECTION,
            "sobjects": [
                {**object_flags(o), "urls": object_urls(version, o)} for o in app.org.sobjects()
            ],
        }
    )


def field_describe(f) -> dict:
    if f.attrs is not None:  # a standard field: its describe data (localorg/describes)
        return dict(f.attrs)
    text = f.type in ("string", "textarea", "email", "phone", "url", "picklist", "multipicklist")
    refs = list(f.reference_to or [])
    boolean = f.type == "boolean"
    system = f.name in ("Id", "CreatedDate", "CreatedById", "LastModifiedDate",
                        "LastModifiedById", "SystemModstamp", "OwnerId", "IsDeleted")
    long_text = f.type == "textarea" and f.length > 255
    default = f.default_value
    return {
        "aggregatable": not long_text,
        "autoNumber": False,
        "byteLength": f.length * 3 if text else (18 if f.type in ("id", "reference") else 0),
        "calculated": False,
        "cascadeDelete": False,
        "caseSensitive": False,
        "createable": f.createable,
        "custom": f.custom,
        "defaultValue": bool(default) if boolean else default,
        "defaultValueFormula": None,
        "defaultedOnCreate": system or boolean or default is not None,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": 0,
        "externalId": f.external_id,
        "filterable": not long_text,
        "groupable": not long_text and f.type not in ("double", "currency", "percent"),
        "htmlFormatted": False,
        "idLookup": is_id_lookup(f),
        "label": f.label,
        "length": f.length if text or f.type in ("id", "reference") else 0,
        "name": f.name,
        "nameField": f.name == "Name",
        "namePointing": len(refs) > 1,
        "nillable": f.nillable and not boolean,
        "permissionable": f.custom and f.nillable,
        "picklistValues": [
            {"active": True, "defaultValue": v == default, "label": v, "validFor": None,
             "value": v}
            for v in (f.picklist_values or [])
        ],
        "polymorphicForeignKey": len(refs) > 1,
        "precision": 18 if f.type in ("double", "currency", "percent") else 0,
        "referenceTo": refs,
        "relationshipName": f.relationship_name,
        "restrictedPicklist": False,
        "scale": 0,
        "soapType": _SOAP_TYPES.get(f.type, "xsd:string"),
        "sortable": not long_text,
        "type": f.type,
        "unique": f.unique,
        "updateable": f.updateable,
    }


def url_object(app, sobject: str):
    """The object named in a URL; an unknown one is 404 NOT_FOUND, as Salesforce answers."""
    try:
        return app.org.describe(sobject)
    except SalesforceError as exc:
        if exc.code == "INVALID_TYPE":
            raise not_found() from None
        raise


def describe(app, request, version, sobject):
    odef = url_object(app, sobject)
    extra = {k: v for k, v in (odef.flags or {}).items() if k not in GLOBAL_KEYS}
    body = {
        **object_flags(odef),
        "childRelationships": [],
        "recordTypeInfos": [],
        "actionOverrides": [],
        "namedLayoutInfos": [],
        "supportedScopes": [],
        "compactLayoutable": True,
        "searchLayoutable": True,
        "listviewable": None,
        "lookupLayoutable": None,
        "networkScopeFieldName": None,
        "sobjectDescribeOption": "FULL",
        "defaultImplementation": None,
        "extendedBy": None,
        "extendsInterfaces": None,
        "implementedBy": None,
        "implementsInterfaces": None,
        **extra,
        "urls": object_urls(version, odef),
        "fields": [field_describe(f) for f in odef.fields.values()],
    }
    layouts = f"{base(version)}/sobjects/{odef.name}/describe/layouts"
    body["recordTypeInfos"] = [{**info, "urls": {"layout": f"{layouts}/{info['recordTypeId']}"}}
                               for info in body["recordTypeInfos"]]
    # org_schema (CumulusCI) sends If-Modified-Since; the schema only changes on deploy, which
    # the server does not timestamp, so the describe is always sent in full (200).
    return json_response(body)


# ----- single records -----------------------------------------------------------------------


def sobject_root(app, request, version, sobject):
    odef = url_object(app, sobject)
    if request.method == "GET":
        # recentItems: the user's recently viewed records of this object (set by FOR VIEW here).
        with app.org.transaction() as txn:
            recent = txn.query(odef.name, ["Id"], where=Cmp("LastViewedDate", "!=", None),
                               order_by=[("LastViewedDate", True, True)],
                               limit=10) if odef.has("LastViewedDate") else []
        return json_response(
            {
                "objectDescribe": {**object_flags(odef), "urls": object_urls(version, odef)},
                "recentItems": [with_attributes(version, odef.name, r) for r in recent],
            }
        )
    body = read_json(request)
    if not isinstance(body, dict):
        raise HttpError(400, "JSON_PARSER_ERROR", "Expected a JSON object with the record's fields")
    check_writable(odef.name, "insert")
    with app.org.transaction() as txn:
        (new_id,) = txn.insert(odef.name, [body])
    return json_response({"id": new_id, "success": True, "errors": []}, 201)


def not_found() -> HttpError:
    return HttpError(404, "NOT_FOUND", "The requested resource does not exist")


def record_not_found(record_id: str) -> HttpError:
    """404 for /sobjects/<Object>/<segment>. A segment that is no Salesforce id is read as an
    external id field name, so Salesforce says "Provided external ID field does not exist or is
    not accessible: <segment>" (seen in clients' recorded responses, e.g. for "-1" or "123")."""
    try:
        ids.to18(record_id)
    except ValueError:
        return HttpError(404, "NOT_FOUND", "Provided external ID field does not exist or is not "
                         f"accessible: {record_id}")
    return not_found()


def url_record(txn, odef, record_id: str, fields=None) -> dict:
    """The record a URL names (its `fields`, or all stored); 404 NOT_FOUND as Salesforce says."""
    try:
        found = txn.retrieve(odef.name, record_id, fields)
    except SalesforceError as exc:
        if exc.code == "MALFORMED_ID":
            raise record_not_found(record_id) from None
        raise
    if found is None:
        raise not_found()
    return found


def record(app, request, version, sobject, record_id):
    odef = url_object(app, sobject)
    if request.method in ("GET", "HEAD"):  # routing adds HEAD to GET; it never deletes
        wanted = request.args.get("fields")
        fields = [f.strip() for f in wanted.split(",") if f.strip()] if wanted else None
        with app.org.transaction() as txn:
            found = url_record(txn, odef, record_id, fields)
        if fields is None:
            found = {f.name: found.get(f.name) for f in odef.fields.values()}
        return json_response(with_attributes(version, odef.name, found))
    with app.org.transaction() as txn:
        exists = url_record(txn, odef, record_id, ["Id"])
        if request.method == "PATCH":
            body = read_json(request)
            if not isinstance(body, dict):
                raise HttpError(400, "JSON_PARSER_ERROR", "Expected a JSON object of fields")
            check_writable(odef.name, "update")
            txn.update(odef.name, [{**body, "Id": exists["Id"]}])
        else:
            check_writable(odef.name, "delete")
            txn.delete(odef.name, [exists["Id"]])
    return Response(status=204)


# ----- sObject Collections ------------------------------------------------------------------


def collection_body(request: Request) -> tuple:
    """(records, allOrNone) of a Collections request body, at most MAX_COLLECTION records."""
    body = read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise HttpError(400, "JSON_PARSER_ERROR", 'Expected {"allOrNone": bool, "records": [...]}')
    items = body["records"]
    check_size(items)
    return items, bool(body.get("allOrNone", False))


def check_size(items: list) -> None:
    if len(items) > MAX_COLLECTION:
        raise HttpError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than "
                        f"{MAX_COLLECTION} records into this call")


def collections_call(app, request, version):
    """POST/PATCH/DELETE composite/sobjects: insert, update or delete up to 200 records."""
    if request.method == "DELETE":
        record_ids = [i for i in request.args.get("ids", "").split(",") if i]
        all_or_none = request.args.get("allOrNone", "false").lower() == "true"
        items = [{"attributes": {"type": None}, "Id": i} for i in record_ids]
        check_size(items)
    else:
        items, all_or_none = collection_body(request)
    if not items:
        raise HttpError(400, "INVALID_FIELD", "No records were given (records or ids is empty)")
    op = {"POST": "insert", "PATCH": "update", "DELETE": "delete"}[request.method]
    return json_response(collections.run_collection(app.org, op, items, all_or_none))


def collections_upsert(app, request, version, sobject, key_field):
    """sObject Collections upsert (API 46.0+): PATCH composite/sobjects/<Obj>/<KeyField>."""
    odef = url_object(app, sobject)
    if not odef.has(key_field) or not is_id_lookup(odef.field(key_field)):
        raise HttpError(404, "NOT_FOUND", "Provided external ID field does not exist or is not "
                        f"accessible: {key_field}")
    check_writable(odef.name, "upsert")
    items, all_or_none = collection_body(request)
    key = odef.field(key_field).name
    return json_response(collections.run_upsert(app.org, odef, key, items, all_or_none))


# ----- composite ----------------------------------------------------------------------------


def composite(app, request, version):
    """Composite resource, GET subrequests only (what CumulusCI's org_schema and count_sobjects
    send). Each subrequest goes through this same app; other methods are NOT_IMPLEMENTED."""
    body = read_json(request)
    subs = (body or {}).get("compositeRequest") if isinstance(body, dict) else None
    if not isinstance(subs, list) or not subs:
        raise HttpError(400, "JSON_PARSER_ERROR", "Expected {\"compositeRequest\": [...]}")
    if len(subs) > 25:
        raise HttpError(400, "INVALID_INPUT", "Composite requests can have at most 25 subrequests")
    if not all(isinstance(s, dict) and isinstance(s.get("url"), str) for s in subs):
        raise HttpError(400, "JSON_PARSER_ERROR", "Each compositeRequest item is an object with "
                        "method, url and referenceId")
    if any(str(s.get("method", "")).upper() != "GET" for s in subs):
        raise NotImplementedInLocalOrg(
            "composite subrequests other than GET (the local org runs GET subrequests only)"
        )
    out = []
    for sub in subs:
        builder = EnvironBuilder(path=sub["url"].split("?")[0], method="GET",
                                 query_string=sub["url"].partition("?")[2],
                                 headers={"Authorization": f"Bearer {app.token}",
                                          **(sub.get("httpHeaders") or {})},
                                 base_url=request.host_url)
        try:
            sub_request = Request(builder.get_environ())
        finally:
            builder.close()
        response, _ = app.dispatch(sub_request)
        text = response.get_data(as_text=True)
        out.append(
            {
                "body": json.loads(text) if text else None,
                "httpHeaders": {},
                "httpStatusCode": response.status_code,
                "referenceId": sub.get("referenceId"),
            }
        )
    return json_response({"compositeResponse": out})


# ----- query --------------------------------------------------------------------------------


def page_response(app, request, version, records: list, total: int, start: int, locator=None):
    size = soql_run.page_size(request.headers.get("Sforce-Query-Options", ""))
    chunk = records[start:start + size]
    body = {"totalSize": total, "done": start + size >= len(records), "records": chunk}
    if not body["done"]:
        locator = locator or app.cursors.add(records)
        body["nextRecordsUrl"] = f"{base(version)}/query/{locator}-{start + size}"
    return json_response(body)


def query(app, request, version):
    result = soql_run.run_soql(app.org, request.args.get("q", ""),
                               lambda sobject, rid: record_url(version, sobject, rid))
    return page_response(app, request, version, result.rows, result.total, 0)


def query_all(app, request, version):
    """queryAll returns deleted records too; the store deletes records outright (no Recycle
    Bin), so it cannot: NOT_IMPLEMENTED rather than query's rows as if nothing was deleted."""
    raise NotImplementedInLocalOrg("queryAll (the local org keeps no deleted records: there is "
                                   "no Recycle Bin); use query, which returns the same live rows")


def query_more(app, request, version, locator):
    cursor, records, offset = app.cursors.page(locator)
    return page_response(app, request, version, records, len(records), offset, cursor)
