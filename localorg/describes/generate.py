"""Write the describe data of the local org's standard objects (`localorg/describes/*.json`).

    python -m localorg.describes.generate [RECORDED_DIR]

Contact, Lead and Event come from real describes recorded from Salesforce
(`GET_sobjects_<Object>_describe.json` in RECORDED_DIR, by default `../shared/recorded` beside
the checkout); the object flags of User and Organization from the recorded global describe.
The other objects (and the fields of User, Organization, EventRelation) come from the compact
specs in `manual/`, written from Salesforce's Object Reference (see docs/fidelity.md for what is
assumed). The output is committed, so the org works without the recorded samples; run this
again when a sample or a spec changes.

Each field is stored trimmed: only the attributes whose value is not the "zero" of its kind
(false, 0, null, []); `_attributes.json` lists every attribute with its zero, so
`localorg.schema` restores the full describe field.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECORDED_OBJECTS = ("Contact", "Lead", "Event")
GLOBAL_FLAG_OBJECTS = ("User", "Organization", "Account")
# Object-level describe keys not carried: the fields (carried apart), child relationships (to
# objects the local org mostly does not have) and urls (the server makes them).
OBJECT_SKIP = ("fields", "childRelationships", "urls")
GLOBAL_SKIP = ("urls",)
SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "int": "xsd:int",
    "double": "xsd:double", "currency": "xsd:double", "percent": "xsd:double",
    "date": "xsd:date", "datetime": "xsd:dateTime", "address": "urn:address",
    "location": "urn:location",
}
TEXT_TYPES = ("string", "textarea", "email", "phone", "url", "picklist", "multipicklist",
              "combobox")
# Object Reference "Properties" words -> describe attributes (spec flags).
FLAG_ATTRS = {
    "Create": "createable", "Update": "updateable", "Nillable": "nillable",
    "Defaulted": "defaultedOnCreate", "idLookup": "idLookup", "Restricted": "restrictedPicklist",
    "Calculated": "calculated", "Unique": "unique", "Filter": "filterable",
    "Group": "groupable", "Sort": "sortable", "NameField": "nameField",
    "ExternalId": "externalId", "CascadeDelete": "cascadeDelete",
}


def zero_of(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0
    if isinstance(value, list):
        return []
    return None


def trim(field: dict, zeros: dict) -> dict:
    return {k: v for k, v in field.items() if k == "name" or v != zeros.get(k)}


def expand(row: list, zeros: dict) -> dict:
    """A full describe field from a spec row [name, label, type, length, flags, extra?]."""
    name, label, ftype, length, flags = row[:5]
    extra = row[5] if len(row) > 5 else {}
    words = {w.strip() for w in flags.split(",") if w.strip()}
    unknown = words - set(FLAG_ATTRS)
    if unknown:
        raise ValueError(f"{name}: unknown flags {sorted(unknown)}")
    field = dict(zeros)
    refs = extra.get("referenceTo", [])
    field.update({
        "name": name, "label": label, "type": ftype, "length": length,
        "soapType": SOAP_TYPES.get(ftype, "xsd:string"),
        "byteLength": length * 3 if ftype in TEXT_TYPES else (18 if refs or ftype == "id" else 0),
        "aggregatable": ftype not in ("textarea", "address", "location", "boolean"),
        "permissionable": "Nillable" in words and "Create" in words,
        "polymorphicForeignKey": len(refs) > 1, "namePointing": len(refs) > 1,
        "searchPrefilterable": ftype == "reference",
    })
    for word in words:
        field[FLAG_ATTRS[word]] = True
    values = extra.get("picklist")
    field.update({k: v for k, v in extra.items() if k != "picklist"})
    if values is not None:
        default = extra.get("defaultValue")
        field["picklistValues"] = [
            {"active": True, "defaultValue": v == default, "label": lab, "validFor": None,
             "value": v} for v, lab in values]
    if ftype == "boolean" and "defaultValue" not in extra:
        field["defaultValue"] = False
    return field


def object_keys(body: dict, skip) -> dict:
    """Object-level describe keys, record type urls left out (they name the API version)."""
    out = {k: v for k, v in body.items() if k not in skip}
    if "recordTypeInfos" in out:
        out["recordTypeInfos"] = [{k: v for k, v in info.items() if k != "urls"}
                                  for info in out["recordTypeInfos"]]
    return out


def recorded_object(recorded: Path, name: str, zeros: dict) -> dict:
    sample = json.loads((recorded / f"GET_sobjects_{name}_describe.json").read_text())
    body = sample["body"]
    return {
        "source": f"recorded:GET_sobjects_{name}_describe.json ({sample['source']})",
        "object": object_keys(body, OBJECT_SKIP),
        "fields": [trim(f, zeros) for f in body["fields"]],
    }


def recorded_values(recorded: Path, where: str) -> list:
    """The picklistValues of `Object.Field` in the recorded describe of Object."""
    name, field = where.split(".")
    body = json.loads((recorded / f"GET_sobjects_{name}_describe.json").read_text())["body"]
    return next(f["picklistValues"] for f in body["fields"] if f["name"] == field)


def manual_object(spec_path: Path, zeros: dict, global_flags: dict, recorded: Path) -> dict:
    spec = json.loads(spec_path.read_text())
    flags = dict(spec["object"])
    source = spec["source"]
    if spec_path.stem in global_flags:
        flags.update(global_flags[spec_path.stem])
        source += "; object flags: recorded:GET_sobjects_global_describe.json"
    rows = []
    for row in spec["fields"]:
        if row == "audit":
            rows += AUDIT_ROWS
        elif len(row) > 5 and "picklistFrom" in row[5]:
            # the values of a recorded field with the same value set, copied as recorded
            extra = dict(row[5])
            extra["picklistValues"] = recorded_values(recorded, extra.pop("picklistFrom"))
            rows.append(row[:5] + [extra])
        else:
            rows.append(row)
    return {"source": source, "assumed": spec.get("assumed", ""), "object": flags,
            "fields": [trim(expand(r, zeros), zeros) for r in rows]}


# The audit fields as every recorded describe has them (Contact, Lead, Event).
AUDIT_ROWS = [
    ["CreatedDate", "Created Date", "datetime", 0, "Filter,Sort,Defaulted"],
    ["CreatedById", "Created By ID", "reference", 18, "Filter,Group,Sort,Defaulted",
     {"referenceTo": ["User"], "relationshipName": "CreatedBy"}],
    ["LastModifiedDate", "Last Modified Date", "datetime", 0, "Filter,Sort,Defaulted"],
    ["LastModifiedById", "Last Modified By ID", "reference", 18, "Filter,Group,Sort,Defaulted",
     {"referenceTo": ["User"], "relationshipName": "LastModifiedBy"}],
    ["SystemModstamp", "System Modstamp", "datetime", 0, "Filter,Sort,Defaulted"],
]


def build(recorded: Path) -> dict:
    """{file stem: data} of every describe data file, from the samples and the specs."""
    zeros = {}
    for name in RECORDED_OBJECTS:
        body = json.loads((recorded / f"GET_sobjects_{name}_describe.json").read_text())["body"]
        for field in body["fields"]:
            for key, value in field.items():
                zeros.setdefault(key, zero_of(value))
    zeros.pop("name")
    glob = json.loads((recorded / "GET_sobjects_global_describe.json").read_text())["body"]
    global_flags = {o["name"]: object_keys(o, GLOBAL_SKIP)
                    for o in glob["sobjects"] if o["name"] in GLOBAL_FLAG_OBJECTS}
    out = {"_attributes": dict(sorted(zeros.items()))}
    out.update({name: recorded_object(recorded, name, zeros) for name in RECORDED_OBJECTS})
    for spec in sorted((HERE / "manual").glob("*.json")):
        out[spec.stem] = manual_object(spec, zeros, global_flags, recorded)
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    recorded = Path(argv[0]) if argv else HERE.parents[2] / "shared" / "recorded"
    if not recorded.is_dir():
        print(f"no recorded samples at {recorded}: pass the folder of GET_sobjects_*_describe"
              ".json files", file=sys.stderr)
        return 2
    for name, data in build(recorded).items():
        (HERE / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")
        print(f"{name}: {len(data.get('fields', data))} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
