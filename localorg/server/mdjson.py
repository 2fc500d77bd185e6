"""Metadata API XML <-> the Tooling API's JSON `Metadata` field, driven by Salesforce's schema.

The Tooling API shows a component's metadata as JSON (Flow.Metadata, FlowDefinition.Metadata;
atlas.en-us.api_tooling.meta, tooling_api_objects_flow.htm): every element of the Metadata type
is a key, repeated elements (maxOccurs="unbounded") are arrays, booleans and numbers are typed,
absent values are null or []. Which is which comes from the XSD embedded in
simple_salesforce/metadata.wsdl (the Metadata API 63.0 schema the project uses everywhere), so
no type is described by hand here. `fullName` is not part of the JSON (it is the FullName field).
"""

from functools import lru_cache
from pathlib import Path

import simple_salesforce
from lxml import etree

from localorg.errors import SalesforceError

MD_NS = "http://soap.sforce.com/2006/04/metadata"
XS = "http://www.w3.org/2001/XMLSchema"
_NUMBERS = {"int": int, "long": int, "double": float}


@lru_cache(maxsize=1)
def _types() -> dict:
    """{complex type name: [(element, type local name, is xsd type, repeated)]} with base types'
    elements first, as the XSD sequence orders them."""
    wsdl = Path(simple_salesforce.__file__).with_name("metadata.wsdl")
    doc = etree.parse(str(wsdl), etree.XMLParser(resolve_entities=False, no_network=True))
    raw = {}
    for ct in doc.iter(f"{{{XS}}}complexType"):
        if not ct.get("name"):
            continue
        ext = ct.find(f"{{{XS}}}complexContent/{{{XS}}}extension")
        base = ext.get("base").split(":")[-1] if ext is not None else None
        elements = []
        for el in ct.iter(f"{{{XS}}}element"):
            kind = el.get("type", "xsd:string")
            elements.append((el.get("name"), kind.split(":")[-1], kind.startswith("xsd:"),
                             el.get("maxOccurs") == "unbounded"))
        raw[ct.get("name")] = (base, elements)

    def flatten(name):
        base, elements = raw[name]
        return (flatten(base) if base in raw else []) + elements

    return {name: flatten(name) for name in raw}


def _scalar(text, kind, is_xsd):
    if text is None:
        return None
    if is_xsd and kind == "boolean":
        return text.strip() == "true"
    if is_xsd and kind in _NUMBERS:
        return _NUMBERS[kind](text.strip())
    return text


def to_json(element, type_name: str, top: bool = True) -> dict:
    """One XML element of Metadata type `type_name` as Tooling JSON (a component's own fullName
    left out at the top)."""
    types = _types()
    out = {}
    for name, kind, is_xsd, repeated in types[type_name]:
        if top and name == "fullName":
            continue
        found = element.findall(f"{{{MD_NS}}}{name}")
        if kind in types:
            values = [to_json(f, kind, top=False) for f in found]
        else:
            values = [_scalar(f.text, kind, is_xsd) for f in found]
        out[name] = values if repeated else (values[0] if values else None)
    return out


def to_xml(data: dict, type_name: str, root_name: str | None = None, where: str = ""):
    """Tooling JSON of Metadata type `type_name` as an lxml element, in schema order.

    Unknown keys raise JSON_PARSER_ERROR naming them, as the Tooling API does."""
    types = _types()
    if not isinstance(data, dict):
        raise SalesforceError("JSON_PARSER_ERROR", f"{where or type_name}: expected an object")
    known = {name for name, *_ in types[type_name]}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SalesforceError(
            "JSON_PARSER_ERROR",
            f"Unrecognized field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} in "
            f"{where or type_name} (Metadata API type {type_name})")
    element = etree.Element(f"{{{MD_NS}}}{root_name or type_name}",
                            nsmap={None: MD_NS} if root_name is None else None)
    for name, kind, _is_xsd, repeated in types[type_name]:
        value = data.get(name)
        if value is None or (repeated and value == []):
            continue
        values = value if repeated and isinstance(value, list) else [value]
        for index, item in enumerate(values):
            path = f"{where or type_name}.{name}" + (f"[{index}]" if repeated else "")
            if kind in types:
                element.append(to_xml(item, kind, name, path))
            else:
                child = etree.SubElement(element, f"{{{MD_NS}}}{name}")
                child.text = ("true" if item else "false") if isinstance(item, bool) else str(item)
    return element
