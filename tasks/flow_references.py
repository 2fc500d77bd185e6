"""The objects and fields that flow files reference, read from the flow XML itself.

The preflight checks these against the org's describes, so the list is never kept by
hand: a field added to a flow is checked the next time the preflight runs. No stock
CumulusCI or sf tool lists a flow's field references (the Metadata API's dependency
list, ``MetadataComponentDependency``, reports only custom fields and needs the flow
deployed first, which is what the preflight must precede).

References come from:
- the data elements' ``<object>`` with their field-valued children (filters, queried
  fields, input and output assignments, sort field) and the record trigger's ``<start>``;
- ``$Record``/``$Record__Prior`` and record variables (``<objectType>``) followed by a
  field, in element references and ``{!...}`` merge fields;
- Get Records that store their output automatically, and loops over known records,
  referenced by element name.
Paths of three or more parts (``event.Who.Name``) name a relationship in the second
part; it is recorded as such and checked against the describe's relationship names.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

MD_NS = "http://soap.sforce.com/2006/04/metadata"
N = {"m": MD_NS}
DATA_ELEMENTS = ("recordLookups", "recordCreates", "recordUpdates", "recordDeletes")
FIELD_CHILDREN = (
    "m:filters/m:field",
    "m:queriedFields",
    "m:inputAssignments/m:field",
    "m:outputAssignments/m:field",
    "m:sortField",
)
MERGE_FIELD = re.compile(r"\{!([^{}]+)\}")
REFERENCE_TAGS = (
    "elementReference",
    "assignToReference",
    "leftValueReference",
    "collectionReference",
    "inputReference",
)


@dataclass
class FlowReferences:
    """{object: {field: [where, ...]}} and {object: {relationship: [where, ...]}}."""

    fields: dict = field(default_factory=dict)
    relationships: dict = field(default_factory=dict)

    def add_field(self, sobject: str, name: str, where: str):
        self.fields.setdefault(sobject, {}).setdefault(name, [])
        if where not in self.fields[sobject][name]:
            self.fields[sobject][name].append(where)

    def add_relationship(self, sobject: str, name: str, where: str):
        self.relationships.setdefault(sobject, {}).setdefault(name, [])
        if where not in self.relationships[sobject][name]:
            self.relationships[sobject][name].append(where)

    @property
    def objects(self) -> list:
        return sorted(set(self.fields) | set(self.relationships))


def _text(element, path: str) -> str | None:
    found = element.find(path, N)
    return found.text.strip() if found is not None and found.text else None


def _record_types(root) -> dict:
    """Names that hold records, mapped to their object: variables, $Record, outputs, loops."""
    types = {}
    start_object = _text(root, "m:start/m:object")
    if start_object:
        types["$Record"] = types["$Record__Prior"] = start_object
    for variable in root.findall("m:variables", N):
        name, sobject = _text(variable, "m:name"), _text(variable, "m:objectType")
        if name and sobject and _text(variable, "m:dataType") == "SObject":
            types[name] = sobject
    for lookup in root.findall("m:recordLookups", N):
        if (_text(lookup, "m:storeOutputAutomatically") or "").lower() == "true":
            types[_text(lookup, "m:name")] = _text(lookup, "m:object")
    for loop in root.findall("m:loops", N):
        collection = (_text(loop, "m:collectionReference") or "").split(".")[0]
        if collection in types:
            types[_text(loop, "m:name")] = types[collection]
    return {name: sobject for name, sobject in types.items() if name and sobject}


def _reference_paths(element):
    for tag in REFERENCE_TAGS:
        for ref in element.iter(f"{{{MD_NS}}}{tag}"):
            if ref.text:
                yield ref.text.strip()
    for node in element.iter():
        if isinstance(node.tag, str) and node.text and "{!" in node.text:
            for match in MERGE_FIELD.finditer(node.text):
                yield match.group(1).strip()


def read_flow(xml: bytes, flow_name: str, refs: FlowReferences | None = None) -> FlowReferences:
    """Add one flow's references to ``refs`` (a new FlowReferences when None)."""
    refs = refs or FlowReferences()
    root = etree.fromstring(xml)
    types = _record_types(root)
    start = root.find("m:start", N)
    if start is not None and _text(start, "m:object"):
        where = f"{flow_name} (start)"
        for path in ("m:filters/m:field",):
            for node in start.findall(path, N):
                refs.add_field(_text(start, "m:object"), node.text.strip(), where)
    for tag in DATA_ELEMENTS:
        for element in root.findall(f"m:{tag}", N):
            sobject = _text(element, "m:object")
            if not sobject:
                continue
            where = f"{flow_name}.{_text(element, 'm:name')}"
            for path in FIELD_CHILDREN:
                for node in element.findall(path, N):
                    if node.text and node.text.strip():
                        refs.add_field(sobject, node.text.strip(), where)
    for element in root:
        if not isinstance(element.tag, str):
            continue
        where = f"{flow_name}.{_text(element, 'm:name') or etree.QName(element).localname}"
        for path in _reference_paths(element):
            parts = path.split(".")
            sobject = types.get(parts[0])
            if sobject is None or len(parts) < 2:
                continue
            if len(parts) == 2:
                refs.add_field(sobject, parts[1], where)
            else:
                refs.add_relationship(sobject, parts[1], where)
    return refs


def read_flows(flows: dict) -> FlowReferences:
    """References of {flow name: xml bytes}, all flows together."""
    refs = FlowReferences()
    for name, xml in sorted(flows.items()):
        read_flow(xml, name, refs)
    return refs


def read_flow_folder(path: Path) -> dict:
    """{flow name: xml bytes} of the *.flow-meta.xml files in a folder."""
    suffix = ".flow-meta.xml"
    return {
        file.name[: -len(suffix)]: file.read_bytes()
        for file in sorted(Path(path).glob(f"*{suffix}"))
    }
