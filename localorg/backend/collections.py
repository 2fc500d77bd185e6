"""sObject Collections and Collections upsert: planning and running the DML of one call.

Per-record results have Salesforce's SaveResult shape ({"id", "success", "errors":
[{"statusCode", "message", "fields"}]}, plus "created" for upsert), as the REST API Developer
Guide's resources_composite_sobjects_collections pages show; the HTTP layer only serialises them.
One call is one transaction: a failure that escapes it rolls every record back.
"""

from localorg.conditions import Cmp
from localorg.errors import DmlError, SalesforceError

MAX_COLLECTION = 200
READ_ONLY_OBJECTS = {"Organization"}  # not createable/updateable/deletable through the API
UNDELETABLE_OBJECTS = {"User"}  # Users are deactivated, never deleted
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
}


def check_writable(sobject: str, op: str, index=None) -> None:
    """INVALID_TYPE_FOR_OPERATION for DML the object's describe refuses (createable, updateable,
    deletable); `index` makes it a Collections record error."""
    if sobject in READ_ONLY_OBJECTS or (sobject in UNDELETABLE_OBJECTS and op == "delete"):
        raise DmlError("INVALID_TYPE_FOR_OPERATION",
                       f"entity type {sobject} does not support {op}", index=index or 0)


def is_id_lookup(f) -> bool:
    """Fields Salesforce lets you upsert on: a standard field's describe says (idLookup); for
    custom fields: external ids, unique text, emails."""
    if f.attrs is not None:
        return f.id_lookup
    text = f.type in ("string", "email")
    return (f.name in ("Id", "Name") or f.external_id or (f.unique and text)
            or f.type == "email")


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
             "errors": [ROLLED_BACK if all_or_none and failed_at not in (None, i)
                        else collection_error(exc)]} for i in range(count)]


def _type_of(org, op, item, index):
    if not isinstance(item, dict):
        raise DmlError("INVALID_FIELD", f"record {index} is not a JSON object", index=index)
    if op == "delete":
        odef = org.object_for_id(item["Id"])
        if odef is None:
            raise DmlError("MALFORMED_ID", f"malformed id {item['Id']}", index=index)
        return odef.name
    sobject = (item.get("attributes") or {}).get("type")
    if not sobject:
        raise DmlError("INVALID_TYPE", "Each record needs attributes.type (the sObject name)",
                       index=index)
    return org.describe(sobject).name


def _runs(org, op, items):
    """Consecutive records of one type: one DML statement each, as Salesforce chunks them."""
    runs = []
    for index, item in enumerate(items):
        try:
            sobject = _type_of(org, op, item, index)
        except SalesforceError as exc:
            return runs, (index, exc)
        if runs and runs[-1][0] == sobject:
            runs[-1][2].append(item)
        else:
            runs.append((sobject, index, [item]))
    return runs, None


def without_attributes(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "attributes"}


def run_collection(org, op: str, items: list, all_or_none: bool) -> list:
    """Insert, update or delete (`op`) the records of one Collections call; one result each."""
    results = [None] * len(items)
    try:
        with org.transaction() as txn:
            runs, bad = _runs(org, op, items)
            if bad and all_or_none:
                raise DmlError(bad[1].code, bad[1].message, bad[1].fields, bad[0])
            if bad:
                results[bad[0]] = {"id": None, "success": False,
                                   "errors": [collection_error(bad[1])]}
            for sobject, start, chunk in runs:
                if op == "delete":
                    args = [r["Id"] for r in chunk]
                else:
                    args = [without_attributes(r) for r in chunk]
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


def run_upsert(org, odef, key: str, items: list, all_or_none: bool) -> list:
    """Collections upsert on field `key` of `odef`: no match creates the record, one match
    updates it (`created` says which), several matches or the same key twice in the call fail
    that record with DUPLICATE_EXTERNAL_ID."""
    check_writable(odef.name, "upsert")
    results = [None] * len(items)
    try:
        with org.transaction() as txn:
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
                records = [without_attributes(items[i]) for i in positions]
                if op == "update":
                    records = [{**r, "Id": plan[i]}
                               for r, i in zip(records, positions, strict=True)]
                try:
                    if op == "insert":
                        out = txn.insert(odef.name, records, all_or_none=all_or_none,
                                         upsert=True)
                    else:
                        out = txn.update(odef.name, records, all_or_none=all_or_none)
                except DmlError as exc:
                    raise DmlError(exc.code, exc.message, exc.fields,
                                   positions[exc.index]) from exc
                for i, item in zip(positions, out, strict=True):
                    result = saved(item, all_or_none)
                    results[i] = {**result, "created": created and result["success"]}
    except SalesforceError as exc:
        results = [{**r, "created": False} for r in all_failed(exc, len(items), all_or_none)]
    return results


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
