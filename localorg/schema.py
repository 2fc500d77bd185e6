"""Object and field metadata of the local org, rich enough for REST describe.

Standard objects come from describe data (`localorg/describes/*.json`, written by
`python -m localorg.describes.generate` from describes recorded on real orgs and from the Object
Reference; docs/fidelity.md says which). Custom objects and fields come
from Salesforce source-format metadata (`objects/<Object>/<Object>.object-meta.xml`,
`objects/<Object>/fields/<Field>.field-meta.xml`, e.g. a package's source folder), parsed with
lxml.
"""

import functools
import json
import pickle
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lxml import etree

from localorg.errors import SalesforceError

MD_NS = "http://soap.sforce.com/2006/04/metadata"
DESCRIBES = Path(__file__).resolve().parent / "describes"

# Salesforce describe types by CustomField <type>.
_CUSTOM_TYPES = {
    "Text": "string",
    "TextArea": "textarea",
    "LongTextArea": "textarea",
    "Html": "textarea",
    "Email": "email",
    "Phone": "phone",
    "Url": "url",
    "Checkbox": "boolean",
    "DateTime": "datetime",
    "Date": "date",
    "Number": "double",
    "Currency": "currency",
    "Percent": "percent",
    "Picklist": "picklist",
    "MultiselectPicklist": "multipicklist",
    "Lookup": "reference",
    "MasterDetail": "reference",
}


@dataclass
class FieldDef:
    name: str
    type: str  # describe type: id, string, textarea, email, boolean, datetime, date, reference, …
    label: str = ""
    length: int = 0
    nillable: bool = True
    reference_to: list = field(default_factory=list)
    relationship_name: str | None = None
    createable: bool = True
    updateable: bool = True
    external_id: bool = False
    unique: bool = False
    default_value: object = None
    picklist_values: list = field(default_factory=list)
    restricted_picklist: bool = False  # only picklist_values are accepted
    custom: bool = False
    defaulted_on_create: bool = False  # Salesforce fills it when an insert leaves it out
    id_lookup: bool = False
    calculated: bool = False
    polymorphic: bool = False  # a reference to several objects: its relationship is `Name`
    attrs: dict | None = None  # the whole describe field, for fields from localorg/describes

    def __post_init__(self):
        self.label = self.label or self.name
        if self.type in ("string", "email", "phone", "url", "picklist") and not self.length:
            self.length = 255
        if self.type == "textarea" and not self.length:
            self.length = 32000

    def describe(self) -> dict:
        """This field as a plain dict (the server maps it onto the REST describe field shape)."""
        return asdict(self)


@dataclass
class ObjectDef:
    name: str
    key_prefix: str
    label: str = ""
    label_plural: str = ""
    custom: bool = False
    fields: dict = field(default_factory=dict)  # lower-case name -> FieldDef
    flags: dict | None = None  # object-level describe attributes, for objects from describes/

    def __post_init__(self):
        self.label = self.label or self.name
        self.label_plural = self.label_plural or self.label + "s"

    def add(self, fdef: FieldDef) -> FieldDef:
        self.fields[fdef.name.lower()] = fdef
        return fdef

    def field(self, name: str) -> FieldDef:
        """The field named `name` (case-insensitive); INVALID_FIELD when it does not exist."""
        try:
            return self.fields[name.lower()]
        except KeyError:
            raise SalesforceError(
                "INVALID_FIELD", f"No such column '{name}' on sobject of type {self.name}", [name]
            ) from None

    def has(self, name: str) -> bool:
        return name.lower() in self.fields

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship name is `name` (e.g. Owner -> OwnerId)."""
        for fdef in self.fields.values():
            if fdef.relationship_name and fdef.relationship_name.lower() == name.lower():
                return fdef
        return None

    def describe(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "labelPlural": self.label_plural,
            "keyPrefix": self.key_prefix,
            "custom": self.custom,
            "fields": [f.describe() for f in self.fields.values()],
        }


AUDIT_FIELDS = ("CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById")


def allow_audit_fields(odef: ObjectDef, on: bool) -> None:
    """The user permission "Set Audit Fields upon Record Creation" (CreateAuditFields): the
    audit fields become createable (never updateable), in the describe as in DML."""
    for name in AUDIT_FIELDS:
        if odef.has(name):
            fdef = odef.field(name)
            fdef.createable = on
            if fdef.attrs is not None:
                fdef.attrs["createable"] = on


def _system_fields(odef: ObjectDef, owner: bool = True) -> None:
    """Id, IsDeleted, audit fields (and OwnerId) of a custom object, as Salesforce describes
    them on standard objects (recorded Contact/Lead/Event): read-only, defaulted on create."""
    sys = {"createable": False, "updateable": False, "nillable": False,
           "defaulted_on_create": True}
    odef.add(FieldDef("Id", "id", "Record ID", length=18, id_lookup=True, **sys))
    odef.add(FieldDef("IsDeleted", "boolean", "Deleted", default_value=False, **sys))
    odef.add(FieldDef("CreatedDate", "datetime", "Created Date", **sys))
    odef.add(FieldDef("CreatedById", "reference", "Created By ID", reference_to=["User"],
                      relationship_name="CreatedBy", **sys))
    odef.add(FieldDef("LastModifiedDate", "datetime", "Last Modified Date", **sys))
    odef.add(FieldDef("LastModifiedById", "reference", "Last Modified By ID",
                      reference_to=["User"], relationship_name="LastModifiedBy", **sys))
    odef.add(FieldDef("SystemModstamp", "datetime", "System Modstamp", **sys))
    if owner:
        odef.add(FieldDef("OwnerId", "reference", "Owner ID", nillable=False,
                          defaulted_on_create=True, reference_to=["User"],
                          relationship_name="Owner"))


def _recently_viewed(odef: ObjectDef) -> None:
    """LastViewedDate/LastReferencedDate: set by SOQL FOR VIEW / FOR REFERENCE on the objects
    Salesforce tracks in RecentlyViewed (not Event, EventRelation). See "RecentlyViewed" in the
    Object Reference: supported objects have these two fields."""
    ro = {"createable": False, "updateable": False}
    odef.add(FieldDef("LastViewedDate", "datetime", "Last Viewed Date", **ro))
    odef.add(FieldDef("LastReferencedDate", "datetime", "Last Referenced Date", **ro))


def field_from_describe(attrs: dict) -> FieldDef:
    """A FieldDef from a REST describe field (all attributes kept for the describe answer)."""
    return FieldDef(
        name=attrs["name"], type=attrs["type"], label=attrs["label"], length=attrs["length"],
        nillable=attrs["nillable"], reference_to=list(attrs["referenceTo"]),
        relationship_name=attrs["relationshipName"], createable=attrs["createable"],
        updateable=attrs["updateable"], external_id=attrs["externalId"],
        unique=attrs["unique"], default_value=attrs["defaultValue"],
        picklist_values=[v["value"] for v in attrs["picklistValues"] if v["active"]],
        restricted_picklist=attrs["restrictedPicklist"], custom=attrs["custom"],
        defaulted_on_create=attrs["defaultedOnCreate"], id_lookup=attrs["idLookup"],
        calculated=attrs["calculated"], polymorphic=attrs["polymorphicForeignKey"],
        attrs=attrs,
    )


@functools.cache
def _describe_data(name: str) -> dict:
    return json.loads((DESCRIBES / f"{name}.json").read_text())


@functools.cache
def _object_pickle(name: str) -> bytes:
    """The object `name` built from its describe data, pickled: unpickling makes a fresh copy
    of it in a third of the time a new build takes (each new org takes one of each standard
    object). Every field is built from its own decoded copy of the data, so no two fields, and
    no two copies, share a list or dict."""
    zeros = _describe_data("_attributes")
    flags = _describe_data(name)["object"]
    odef = ObjectDef(name, flags.get("keyPrefix") or "", flags.get("label", name),
                     flags.get("labelPlural", ""), flags=dict(flags))
    fields = json.dumps([{**zeros, **trimmed} for trimmed in _describe_data(name)["fields"]])
    for attrs in json.loads(fields):
        odef.add(field_from_describe(attrs))
    return pickle.dumps(odef)


def object_from_data(name: str) -> ObjectDef:
    """The object `name` as described by `localorg/describes/<name>.json` (a fresh copy)."""
    return pickle.loads(_object_pickle(name))


# Objects of a fresh local org, and the key prefixes the recorded describes leave out.
STANDARD_OBJECTS = ("User", "Profile", "Account", "Contact", "Lead", "Event", "EventRelation",
                    "Organization")
_KEY_PREFIXES = {"Event": "00U", "Lead": "00Q", "Account": "001"}


def standard_objects() -> dict:
    """Standard objects of a fresh org, by name (fields: localorg/describes/)."""
    objs = {}
    for name in STANDARD_OBJECTS:
        odef = object_from_data(name)
        odef.key_prefix = odef.key_prefix or _KEY_PREFIXES[name]
        objs[name] = odef
    return objs


def name_object() -> ObjectDef:
    """Salesforce's `Name` object: what a polymorphic relationship (Who, What, Owner of an
    Event, Relation) exposes in SOQL, whatever the record's real type."""
    return object_from_data("Name")


def new_custom_object(name: str, key_prefix: str, label: str = "", plural: str = "") -> ObjectDef:
    """A custom object with Salesforce's standard fields (Id, Name, OwnerId, audit fields)."""
    if not name.endswith("__c"):
        raise SalesforceError("INVALID_TYPE", f"Custom object names end with __c: '{name}'")
    odef = ObjectDef(name, key_prefix, label, plural, custom=True)
    _system_fields(odef)
    _recently_viewed(odef)
    odef.add(FieldDef("Name", "string", "Name", length=80))
    return odef


def _text(el, tag: str, default=None):
    child = el.find(f"{{{MD_NS}}}{tag}")
    return child.text if child is not None and child.text is not None else default


def field_from_xml(xml: bytes, name: str | None = None) -> FieldDef:
    """Parse one CustomField (a `.field-meta.xml` or a CustomObject's `<fields>` element)."""
    root = etree.fromstring(xml) if isinstance(xml, bytes | str) else xml
    full = _text(root, "fullName") or name
    ftype = _text(root, "type")
    if not full or not ftype:
        raise SalesforceError("FIELD_INTEGRITY_EXCEPTION",
                              f"CustomField {full or name!r} needs fullName and type")
    if ftype not in _CUSTOM_TYPES:
        raise SalesforceError("NOT_IMPLEMENTED",
                              f"The local org does not implement custom field type {ftype} "
                              f"({full}).")
    dtype = _CUSTOM_TYPES[ftype]
    default = _text(root, "defaultValue")
    if dtype == "boolean":
        default = (default or "false").lower() == "true"
    elif default is not None:
        default = default.strip("'\"")
    length = int(_text(root, "length", "0") or 0)
    if ftype == "TextArea":
        length = 255
    refs = [_text(root, "referenceTo")] if dtype == "reference" else []
    rel = None
    if dtype == "reference":
        rel = full[:-3] + "__r" if full.endswith("__c") else full
    values = [
        _text(v, "fullName")
        for v in root.iter(f"{{{MD_NS}}}value")
        if _text(v, "fullName") is not None
    ]
    if dtype == "picklist" and default is None:
        # fidelity: Describe and field rules / picklist default value
        default = next((_text(v, "fullName") for v in root.iter(f"{{{MD_NS}}}value")
                        if _text(v, "default") == "true"), None)
    return FieldDef(
        name=full,
        type=dtype,
        label=_text(root, "label", full),
        length=length,
        nillable=(_text(root, "required", "false") != "true") or dtype == "boolean",
        reference_to=refs,
        relationship_name=rel,
        external_id=_text(root, "externalId", "false") == "true",
        unique=_text(root, "unique", "false") == "true",
        default_value=default,
        picklist_values=values,
        restricted_picklist=root.findtext(f"{{{MD_NS}}}valueSet/{{{MD_NS}}}restricted") == "true",
        custom=True,
    )


def read_source_objects(folder: Path):
    """Yield ("object", name, label, plural) and ("field", object, FieldDef) from a source folder.

    `folder` is a source-format package directory containing `objects/`.
    """
    objects_dir = Path(folder) / "objects"
    if not objects_dir.is_dir():
        raise FileNotFoundError(f"{objects_dir} does not exist: expected source-format objects/")
    for obj_dir in sorted(p for p in objects_dir.iterdir() if p.is_dir()):
        meta = obj_dir / f"{obj_dir.name}.object-meta.xml"
        if meta.exists():
            root = etree.parse(str(meta)).getroot()
            yield ("object", obj_dir.name, _text(root, "label", obj_dir.name),
                   _text(root, "pluralLabel", ""))
        for fpath in sorted((obj_dir / "fields").glob("*.field-meta.xml")):
            name = fpath.name[: -len(".field-meta.xml")]
            yield ("field", obj_dir.name, field_from_xml(fpath.read_bytes(), name))
