"""Object and field metadata of the local org, rich enough for REST describe.

Standard objects are declared here (the subset this project touches). Custom objects and fields come
from Salesforce source-format metadata (`objects/<Object>/<Object>.object-meta.xml`,
`objects/<Object>/fields/<Field>.field-meta.xml`, e.g. a package's source folder), parsed with
lxml.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path

from lxml import etree

from localorg.errors import SalesforceError

MD_NS = "http://soap.sforce.com/2006/04/metadata"

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


def _system_fields(odef: ObjectDef, owner: bool = True) -> None:
    ro = {"createable": False, "updateable": False}
    odef.add(FieldDef("Id", "id", "Record ID", length=18, nillable=False, **ro))
    odef.add(FieldDef("IsDeleted", "boolean", "Deleted", nillable=False, **ro))
    # Audit fields are createable: the local org behaves like an org with "Set Audit Fields upon
    # Record Creation" so scenarios can give LastModifiedDate.
    odef.add(FieldDef("CreatedDate", "datetime", "Created Date", nillable=False, updateable=False))
    odef.add(FieldDef("CreatedById", "reference", "Created By ID", nillable=False,
                      reference_to=["User"], relationship_name="CreatedBy", **ro))
    odef.add(FieldDef("LastModifiedDate", "datetime", "Last Modified Date", nillable=False,
                      updateable=False))
    odef.add(FieldDef("LastModifiedById", "reference", "Last Modified By ID", nillable=False,
                      reference_to=["User"], relationship_name="LastModifiedBy", **ro))
    odef.add(FieldDef("SystemModstamp", "datetime", "System Modstamp", nillable=False, **ro))
    if owner:
        odef.add(FieldDef("OwnerId", "reference", "Owner ID", nillable=False,
                          reference_to=["User"], relationship_name="Owner"))


def _recently_viewed(odef: ObjectDef) -> None:
    """LastViewedDate/LastReferencedDate: set by SOQL FOR VIEW / FOR REFERENCE on the objects
    Salesforce tracks in RecentlyViewed (not Event, EventRelation). See "RecentlyViewed" in the
    Object Reference: supported objects have these two fields."""
    ro = {"createable": False, "updateable": False}
    odef.add(FieldDef("LastViewedDate", "datetime", "Last Viewed Date", **ro))
    odef.add(FieldDef("LastReferencedDate", "datetime", "Last Referenced Date", **ro))


def _person(odef: ObjectDef) -> None:
    odef.add(FieldDef("FirstName", "string", "First Name", length=40))
    odef.add(FieldDef("LastName", "string", "Last Name", length=80, nillable=False))
    odef.add(FieldDef("Name", "string", "Full Name", length=121, createable=False,
                      updateable=False))
    odef.add(FieldDef("Email", "email", "Email", length=80))
    odef.add(FieldDef("Phone", "phone", "Phone", length=40))
    odef.add(FieldDef("Title", "string", "Title", length=128))


def standard_objects() -> dict:
    """Standard objects of a fresh org, by name."""
    objs = {}

    user = ObjectDef("User", "005", "User")
    _system_fields(user, owner=False)
    _person(user)
    _recently_viewed(user)
    user.add(FieldDef("Username", "string", "Username", length=80, nillable=False, unique=True))
    user.add(FieldDef("Alias", "string", "Alias", length=8, nillable=False))
    user.add(FieldDef("IsActive", "boolean", "Active", nillable=False, default_value=True))
    user.add(FieldDef("ProfileId", "reference", "Profile ID", reference_to=["Profile"],
                      relationship_name="Profile"))
    user.add(FieldDef("TimeZoneSidKey", "picklist", "Time Zone", length=40, nillable=False,
                      default_value="GMT"))
    user.add(FieldDef("LocaleSidKey", "picklist", "Locale", length=40, nillable=False,
                      default_value="en_US"))
    user.add(FieldDef("LanguageLocaleKey", "picklist", "Language", length=40, nillable=False,
                      default_value="en_US"))
    user.add(FieldDef("EmailEncodingKey", "picklist", "Email Encoding", length=40,
                      nillable=False, default_value="UTF-8"))
    objs["User"] = user

    profile = ObjectDef("Profile", "00e", "Profile")
    _system_fields(profile, owner=False)
    profile.add(FieldDef("Name", "string", "Name", nillable=False))
    objs["Profile"] = profile

    contact = ObjectDef("Contact", "003", "Contact")
    _system_fields(contact)
    _person(contact)
    _recently_viewed(contact)
    objs["Contact"] = contact

    lead = ObjectDef("Lead", "00Q", "Lead")
    _system_fields(lead)
    _person(lead)
    _recently_viewed(lead)
    lead.add(FieldDef("Company", "string", "Company", nillable=False))
    lead.add(FieldDef("Status", "picklist", "Status", length=40, nillable=False,
                      default_value="Open - Not Contacted"))
    # Salesforce sets these through convertLead only; the local org lets test data set them.
    lead.add(FieldDef("IsConverted", "boolean", "Converted", nillable=False, default_value=False))
    lead.add(FieldDef("ConvertedContactId", "reference", "Converted Contact ID",
                      reference_to=["Contact"], relationship_name="ConvertedContact"))
    lead.add(FieldDef("ConvertedDate", "date", "Converted Date"))
    objs["Lead"] = lead

    event = ObjectDef("Event", "00U", "Event")
    _system_fields(event)
    event.add(FieldDef("Subject", "string", "Subject", length=255))
    event.add(FieldDef("StartDateTime", "datetime", "Start"))
    event.add(FieldDef("EndDateTime", "datetime", "End"))
    event.add(FieldDef("ActivityDateTime", "datetime", "Due Date Time"))
    event.add(FieldDef("ActivityDate", "date", "Due Date Only"))
    event.add(FieldDef("DurationInMinutes", "int", "Duration"))
    event.add(FieldDef("IsAllDayEvent", "boolean", "All-Day Event", nillable=False,
                       default_value=False))
    event.add(FieldDef("Description", "textarea", "Description", length=32000))
    event.add(FieldDef("Location", "string", "Location", length=255))
    event.add(FieldDef("ShowAs", "picklist", "Show Time As", length=40, default_value="Busy",
                       picklist_values=["Busy", "OutOfOffice", "Free", "Tentative"],
                       restricted_picklist=True))
    event.add(FieldDef("WhoId", "reference", "Name ID", reference_to=["Contact", "Lead"],
                       relationship_name="Who"))
    event.add(FieldDef("WhatId", "reference", "Related To ID", reference_to=[],
                       relationship_name="What"))
    # fidelity: Activities / child Events (recorded:GET_sobjects_Event_describe.json)
    event.add(FieldDef("IsChild", "boolean", "Is Child", nillable=False, default_value=False,
                       createable=False, updateable=False))
    event.add(FieldDef("IsGroupEvent", "boolean", "Is Group Event", nillable=False,
                       default_value=False, createable=False, updateable=False))
    event.add(FieldDef("GroupEventType", "picklist", "Group Event Type", length=40,
                       default_value="0", picklist_values=["0", "1", "2", "3"],
                       restricted_picklist=True, createable=False, updateable=False))
    event.add(FieldDef("IsReminderSet", "boolean", "Reminder Set", nillable=False,
                       default_value=False))
    event.add(FieldDef("ReminderDateTime", "datetime", "Reminder Date/Time"))
    objs["Event"] = event

    rel = ObjectDef("EventRelation", "0RE", "Event Relation")
    _system_fields(rel, owner=False)
    rel.add(FieldDef("EventId", "reference", "Event ID", nillable=False, reference_to=["Event"],
                     relationship_name="Event", updateable=False))
    rel.add(FieldDef("RelationId", "reference", "Relation ID", nillable=False,
                     reference_to=["Contact", "Lead", "User"], relationship_name="Relation",
                     updateable=False))
    rel.add(FieldDef("IsInvitee", "boolean", "Is Invitee", nillable=False))
    rel.add(FieldDef("IsParent", "boolean", "Is Parent", nillable=False, default_value=False))
    rel.add(FieldDef("IsWhat", "boolean", "Is What", nillable=False, default_value=False))
    rel.add(FieldDef("Status", "picklist", "Status", length=40, default_value="New",
                     picklist_values=["New", "Declined", "Accepted", "Uninvited", "Maybe"],
                     restricted_picklist=True))
    rel.add(FieldDef("Response", "string", "Response", length=255))
    rel.add(FieldDef("RespondedDate", "datetime", "Response Date"))
    objs["EventRelation"] = rel

    org = ObjectDef("Organization", "00D", "Organization")
    _system_fields(org, owner=False)
    org.add(FieldDef("Name", "string", "Name", length=80, nillable=False))
    org.add(FieldDef("OrganizationType", "string", "Edition", length=40))
    org.add(FieldDef("IsSandbox", "boolean", "Is Sandbox", default_value=False))
    org.add(FieldDef("NamespacePrefix", "string", "Namespace Prefix", length=15))
    # Read by CumulusCI's OrgConfig (org info, expiry): instance and trial expiry.
    org.add(FieldDef("InstanceName", "string", "Instance Name", length=5))
    org.add(FieldDef("TrialExpirationDate", "datetime", "Trial Expiration Date"))
    org.add(FieldDef("LanguageLocaleKey", "picklist", "Language", length=40, default_value="en_US"))
    org.add(FieldDef("TimeZoneSidKey", "picklist", "Time Zone", length=40, default_value="GMT"))
    objs["Organization"] = org
    return objs


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
