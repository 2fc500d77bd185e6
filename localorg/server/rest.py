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
import secrets
import threading
from collections import OrderedDict

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from localorg import ids, soql
from localorg.conditions import Cmp
from localorg.errors import DmlError, NotImplementedInLocalOrg, SalesforceError
from localorg.server.responses import HttpError, json_response

MAX_COLLECTION = 200
PAGE_SIZE = 2000
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
_READ_ONLY_OBJECTS = {"Organization"}  # not createable/updateable/deletable through the API
_UNDELETABLE_OBJECTS = {"User"}  # Users are deactivated, never deleted
_ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
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
    out = {"attributes": {"type": sobject}}
    if record.get("Id"):
        out["attributes"]["url"] = record_url(version, sobject, record["Id"])
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
    from localorg.server.app import API_VERSIONS, release_label

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


def object_flags(odef) -> dict:
    writable = odef.name not in _READ_ONLY_OBJECTS
    return {
        "activateable": False,
        "createable": writable,
        "custom": odef.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": writable and odef.name not in _UNDELETABLE_OBJECTS,
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
        "searchable": odef.name not in _READ_ONLY_OBJECTS,
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


def is_id_lookup(f) -> bool:
    """Fields Salesforce lets you upsert on: Id, external ids, unique text, emails, names."""
    text = f.type in ("string", "email")
    return (f.name in ("Id", "Name") or f.external_id or (f.unique and text)
            or f.type == "email")


def field_describe(f) -> dict:
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
    body = {
        **object_flags(odef),
        "urls": object_urls(version, odef),
        "fields": [field_describe(f) for f in odef.fields.values()],
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
    }
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


def check_writable(sobject: str, op: str, index=None) -> None:
    """INVALID_TYPE_FOR_OPERATION for DML the object's describe refuses (createable, updateable,
    deletable: see object_flags); `index` makes it a Collections record error."""
    if sobject in _READ_ONLY_OBJECTS or (
            sobject in _UNDELETABLE_OBJECTS and op == "delete"):
        raise DmlError("INVALID_TYPE_FOR_OPERATION",
                       f"entity type {sobject} does not support {op}", index=index or 0)


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
    if request.method == "GET":
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


def collection_error(exc: SalesforceError) -> dict:
    return {"statusCode": exc.code, "message": exc.message, "fields": list(exc.fields)}


def saved(item, all_or_none: bool) -> dict:
    """One Collections result from a store DML result (an id under allOrNone, else a dict)."""
    if all_or_none:
        return {"id": item, "success": True, "errors": []}
    return {"id": item["id"], "success": item["success"], "errors": [
        {"statusCode": e["errorCode"], "message": e["message"], "fields": e.get("fields", [])}
        for e in item["errors"]]}


def all_failed(exc: SalesforceError, count: int, all_or_none: bool) -> list:
    """Results when the call's transaction failed: the failing record gets the error; under
    allOrNone the others get ALL_OR_NONE_OPERATION_ROLLED_BACK."""
    failed_at = exc.index if isinstance(exc, DmlError) else None
    return [{"id": None, "success": False,
             "errors": [_ROLLED_BACK if all_or_none and failed_at not in (None, i)
                        else collection_error(exc)]} for i in range(count)]


def collections(app, request, version):
    if request.method == "DELETE":
        ids = [i for i in request.args.get("ids", "").split(",") if i]
        all_or_none = request.args.get("allOrNone", "false").lower() == "true"
        items = [{"attributes": {"type": None}, "Id": i} for i in ids]
    else:
        body = read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise HttpError(400, "JSON_PARSER_ERROR",
                            'Expected {"allOrNone": bool, "records": [...]}')
        items = body["records"]
        all_or_none = bool(body.get("allOrNone", False))
    if len(items) > MAX_COLLECTION:
        raise HttpError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than "
                        f"{MAX_COLLECTION} records into this call")
    if not items:
        raise HttpError(400, "INVALID_FIELD", "No records were given (records or ids is empty)")
    op = {"POST": "insert", "PATCH": "update", "DELETE": "delete"}[request.method]
    return json_response(run_collection(app, op, items, all_or_none))


def _type_of(app, op, item, index):
    if not isinstance(item, dict):
        raise DmlError("INVALID_FIELD", f"record {index} is not a JSON object", index=index)
    if op == "delete":
        odef = app.org.object_for_id(item["Id"])
        if odef is None:
            raise DmlError("MALFORMED_ID", f"malformed id {item['Id']}", index=index)
        return odef.name
    sobject = (item.get("attributes") or {}).get("type")
    if not sobject:
        raise DmlError("INVALID_TYPE", "Each record needs attributes.type (the sObject name)",
                       index=index)
    return app.org.describe(sobject).name


def _runs(app, op, items):
    """Consecutive records of one type: one DML statement each, as Salesforce chunks them."""
    runs = []
    for index, item in enumerate(items):
        try:
            sobject = _type_of(app, op, item, index)
        except SalesforceError as exc:
            return runs, (index, exc)
        if runs and runs[-1][0] == sobject:
            runs[-1][2].append(item)
        else:
            runs.append((sobject, index, [item]))
    return runs, None


def run_collection(app, op, items, all_or_none):
    """One transaction for the whole call: a failure that escapes it rolls every record back."""
    results = [None] * len(items)
    try:
        with app.org.transaction() as txn:
            runs, bad = _runs(app, op, items)
            if bad and all_or_none:
                raise DmlError(bad[1].code, bad[1].message, bad[1].fields, bad[0])
            if bad:
                results[bad[0]] = {"id": None, "success": False,
                                   "errors": [collection_error(bad[1])]}
            for sobject, start, chunk in runs:
                if op == "delete":
                    args = [r["Id"] for r in chunk]
                else:
                    args = [{k: v for k, v in r.items() if k != "attributes"} for r in chunk]
                check_writable(sobject, op, start)
                try:
                    out = getattr(txn, op)(sobject, args, all_or_none=all_or_none)
                except DmlError as exc:
                    raise DmlError(exc.code, exc.message, exc.fields, start + exc.index) from exc
                for offset, item in enumerate(out):
                    results[start + offset] = saved(item, all_or_none)
            if op == "delete":
                for i, item in enumerate(items):
                    if results[i] and results[i]["success"]:
                        results[i]["id"] = item["Id"]
    except SalesforceError as exc:
        return all_failed(exc, len(items), all_or_none)
    return results


def collections_upsert(app, request, version, sobject, key_field):
    """sObject Collections upsert (API 46.0+): PATCH composite/sobjects/<Obj>/<KeyField>.

    Per record: no match creates it, one match updates it (`created` says which), several
    matches or the same key twice in the request fail that record with DUPLICATE_EXTERNAL_ID.
    One transaction; allOrNone as for the other Collections calls."""
    odef = url_object(app, sobject)
    if not odef.has(key_field) or not is_id_lookup(odef.field(key_field)):
        raise HttpError(404, "NOT_FOUND", "Provided external ID field does not exist or is not "
                        f"accessible: {key_field}")
    key = odef.field(key_field).name
    check_writable(odef.name, "upsert")
    body = read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise HttpError(400, "JSON_PARSER_ERROR", 'Expected {"allOrNone": bool, "records": [...]}')
    items, all_or_none = body["records"], bool(body.get("allOrNone", False))
    if len(items) > MAX_COLLECTION:
        raise HttpError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than "
                        f"{MAX_COLLECTION} records into this call")
    results = [None] * len(items)
    try:
        with app.org.transaction() as txn:
            plan = upsert_plan(txn, odef, key, items)
            bad = [(i, err) for i, err in enumerate(plan) if isinstance(err, SalesforceError)]
            if bad and all_or_none:
                raise DmlError(bad[0][1].code, bad[0][1].message, bad[0][1].fields, bad[0][0])
            for i, err in bad:
                results[i] = {"id": None, "success": False, "errors": [collection_error(err)],
                              "created": False}
            for op, created in (("insert", True), ("update", False)):
                positions = [i for i, p in enumerate(plan) if isinstance(p, str)
                             and (p == "insert") == (op == "insert")]
                if not positions:
                    continue
                records = [{k: v for k, v in items[i].items() if k != "attributes"}
                           for i in positions]
                if op == "update":
                    records = [{**r, "Id": plan[i]}
                               for r, i in zip(records, positions, strict=True)]
                try:
                    out = getattr(txn, op)(odef.name, records, all_or_none=all_or_none)
                except DmlError as exc:
                    raise DmlError(exc.code, exc.message, exc.fields,
                                   positions[exc.index]) from exc
                for i, item in zip(positions, out, strict=True):
                    result = saved(item, all_or_none)
                    results[i] = {**result, "created": created and result["success"]}
    except SalesforceError as exc:
        results = [{**r, "created": False} for r in all_failed(exc, len(items), all_or_none)]
    return json_response(results)


def upsert_plan(txn, odef, key: str, items: list) -> list:
    """Per record: "insert", the Id to update, or the SalesforceError that fails it."""
    values = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            values.append(DmlError("INVALID_FIELD", f"record {index} is not a JSON object"))
        elif item.get(key) in (None, ""):
            values.append(DmlError("REQUIRED_FIELD_MISSING",
                                   f"Required fields are missing: [{key}]", [key]))
        else:
            values.append(item[key])
    wanted = sorted({str(v) for v in values if not isinstance(v, SalesforceError)})
    found = {}
    if wanted:
        for row in txn.query(odef.name, ["Id", key], where=Cmp(key, "IN", wanted)):
            found.setdefault(str(row[key]).lower(), []).append(row["Id"])
    seen = {}
    for v in values:
        if not isinstance(v, SalesforceError):
            seen[str(v).lower()] = seen.get(str(v).lower(), 0) + 1
    plan = []
    for v in values:
        if isinstance(v, SalesforceError):
            plan.append(v)
            continue
        matches = found.get(str(v).lower(), [])
        if seen[str(v).lower()] > 1:
            plan.append(DmlError("DUPLICATE_EXTERNAL_ID",
                                 f"Duplicate external id specified: {v}", [key]))
        elif len(matches) > 1:
            plan.append(DmlError("DUPLICATE_EXTERNAL_ID",
                                 f"{key}: more than one record found for external id field: "
                                 f"{matches}", [key]))
        else:
            plan.append(matches[0] if matches else "insert")
    return plan


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


class Cursors:
    """Query results waiting for their next page (nextRecordsUrl), newest 50 kept."""

    def __init__(self, keep=50):
        self.keep = keep
        self._items = OrderedDict()
        self._lock = threading.Lock()

    def add(self, records: list) -> str:
        locator = "01g" + secrets.token_hex(8).upper()[:15]
        with self._lock:
            self._items[locator] = records
            while len(self._items) > self.keep:
                self._items.popitem(last=False)
        return locator

    def get(self, locator: str) -> list:
        with self._lock:
            found = self._items.get(locator)
        if found is None:
            raise HttpError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return found


def page_size(request: Request) -> int:
    options = request.headers.get("Sforce-Query-Options", "")
    for part in options.split(","):
        key, _, value = part.partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            return min(max(int(value), 200), PAGE_SIZE)
    return PAGE_SIZE


def run_soql(org, text: str, version: str) -> dict:
    """Run one SOQL query; returns {"totalSize", "records"} with REST record shapes."""
    query = soql.parse(text)
    try:
        with org.transaction() as txn:
            if query.count:
                total = max(txn.count(query.sobject, where=query.where) - (query.offset or 0), 0)
                if query.limit is not None:
                    total = min(total, query.limit)
                return {"totalSize": total, "records": []}
            odef = org.describe(query.sobject)
            extra = id_paths(query.fields)
            rows = txn.query(odef.name, query.fields + extra, where=query.where,
                             order_by=query.order_by, limit=query.limit, offset=query.offset)
            if query.usage:
                mark_used(txn, odef, query.usage, [r["Id"] for r in rows])
    except SalesforceError as exc:
        raise locate(query, exc) from None
    rows = [drop(with_attributes(version, odef.name, r), extra) for r in rows]
    return {"totalSize": len(rows), "records": rows}


def mark_used(txn, odef, usage: str, record_ids: list) -> None:
    """FOR VIEW / FOR REFERENCE: the rows are returned and their LastViewedDate /
    LastReferencedDate set to now ("FOR VIEW and FOR REFERENCE", SOQL and SOSL Reference:
    developer.salesforce.com/docs/platform/salesforce-soql-sosl/guide/
    sforce-api-calls-soql-select-for-view-for-reference.html). The local org keeps those dates
    on the record itself (one user), not in a RecentlyViewed object."""
    field_name = "LastViewedDate" if usage == "VIEW" else "LastReferencedDate"
    if not odef.has(field_name):
        raise NotImplementedInLocalOrg(
            f"SOQL FOR {usage} on {odef.name}, which has no {field_name} (Salesforce does not "
            "track it in RecentlyViewed)")
    txn.mark_used(odef.name, record_ids, field_name)


def id_paths(fields: list) -> list:
    """Id paths of the record and of each parent a query reads, unless selected: their ids make
    each `attributes.url`, as Salesforce returns it for parent records too."""
    have = {f.lower() for f in fields}
    out = []
    for path in ["Id"] + [".".join(f.split(".")[:n] + ["Id"]) for f in fields
                          for n in range(1, f.count(".") + 1)]:
        if path.lower() not in have:
            have.add(path.lower())
            out.append(path)
    return out


def drop(record: dict, paths: list) -> dict:
    """Remove the helper Id fields added by `id_paths` (after the urls are made)."""
    for path in paths:
        *parents, last = path.split(".")
        node = record
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return record


def locate(query: soql.Query, exc: SalesforceError) -> SalesforceError:
    """Add Salesforce's `ERROR at Row:1:Column:N` position to the store's schema errors."""
    if exc.code == "INVALID_TYPE":
        return soql.invalid_type(query)
    if exc.code == "INVALID_FIELD" and exc.fields:
        path = exc.fields[0]
        for ref, pos in query.refs:
            if ref.lower() == path.lower():
                body = soql.located_error(exc.code, query.text, pos, exc.message)
                return SalesforceError(exc.code, body.message)
    return exc


def page_response(app, request, version, records: list, total: int, start: int, locator=None):
    size = page_size(request)
    chunk = records[start:start + size]
    body = {"totalSize": total, "done": start + size >= len(records), "records": chunk}
    if not body["done"]:
        locator = locator or app.cursors.add(records)
        body["nextRecordsUrl"] = f"{base(version)}/query/{locator}-{start + size}"
    return json_response(body)


def query(app, request, version):
    result = run_soql(app.org, request.args.get("q", ""), version)
    return page_response(app, request, version, result["records"], result["totalSize"], 0)


def query_all(app, request, version):
    """queryAll: the store deletes records outright (no Recycle Bin), so it equals query."""
    return query(app, request, version)


def query_more(app, request, version, locator):
    cursor, _, offset = locator.rpartition("-")
    if not cursor or not offset.isdigit():
        raise HttpError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    records = app.cursors.get(cursor)
    return page_response(app, request, version, records, len(records), int(offset), cursor)

