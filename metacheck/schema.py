"""Validate metadata XML against Salesforce's own Metadata API schema.

Public API (the local org's Metadata ``deploy`` reuses it)::

    from metacheck import schema
    findings = schema.validate(path_or_bytes, kind=None, filename=None)
    schema.has_errors(findings)          # True when the component must be rejected
    schema.SCHEMA_API_VERSION            # "63.0", the bundled schema's version
    schema.child_order("Flow")           # a type's elements in schema order (for editors)

``validate`` takes a file path or the raw bytes of one component (source format such as
``Foo.flow-meta.xml`` or Metadata API format such as ``flows/Foo.flow``; the root element
names the type either way) and returns a list of :class:`metacheck.findings.Finding`.
``kind`` (``"Flow"``, ``"Layout"``, ``"CustomObject"``, ``"CustomField"`` or the lower-case
short forms ``flow``/``layout``/``object``/``field``) makes a file of another type an error.

The schema is the XSD embedded in ``simple_salesforce/metadata.wsdl`` (Metadata API 63.0).
The WSDL declares types but no root elements, so one global element per Metadata type is
added (``<Flow>`` of type ``tns:Flow``...), then lxml compiles it once per process (about
0.2 s; ``validate`` itself takes milliseconds).

lxml's messages name XSD internals; this module rewrites the common ones in Salesforce
terms: the file, the line, the element path (``decisions(myDecision)/rules(r1)/...``,
using each element's ``<name>``), a "did you mean" for misspelt enum values and element
names, and for elements out of order the element they must come before.

A file whose ``<apiVersion>`` is newer than the schema gets one WARNING saying so, and its
schema differences become warnings, since later API versions add elements and values this
schema does not know. Two kinds of problem stay errors whatever the version, because no
API version makes them valid: an enum value that differs only in case from a known value,
and two known elements in the wrong order. XML syntax errors are always errors.
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

from lxml import etree

from metacheck.findings import ERROR, WARNING, Finding

MD_NS = "http://soap.sforce.com/2006/04/metadata"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
CHECK = "schema"
# One compiled schema per process; its error_log is per-object, so validations that
# share it (a threaded local-org server) take turns.
_VALIDATION_LOCK = threading.Lock()

# Short names accepted for ``kind``; file suffixes the project check looks at.
KIND_ALIASES = {"flow": "Flow", "layout": "Layout", "object": "CustomObject",
                "field": "CustomField"}
SOURCE_SUFFIXES = (".flow-meta.xml", ".layout-meta.xml", ".object-meta.xml",
                   ".field-meta.xml")

_FRIENDLY_TYPES = {
    "xs:int": "whole number", "xs:long": "whole number", "xs:double": "number",
    "xs:boolean": "boolean (true or false)", "xs:dateTime": "date-time (ISO 8601)",
    "xs:date": "date (YYYY-MM-DD)", "xs:time": "time (hh:mm:ss)",
}
_ELEMENT_MSG = re.compile(r"^Element '(?:\{[^}]*\})?([^']+)'(?:, attribute '[^']+')?: (.*)$",
                          re.S)


@dataclass(frozen=True)
class _Child:
    name: str
    type: str  # local type name: "FlowDecision", or "xs:int" for built-ins
    repeats: bool


@dataclass
class _Schema:
    xsd: etree.XMLSchema
    api_version: str
    children: dict[str, list[_Child]]  # complex type -> its elements, base type's first
    enums: dict[str, list[str]]  # simple type -> allowed values
    metadata_types: frozenset[str]


def _wsdl_path() -> Path:
    """simple-salesforce's metadata.wsdl, found without importing the package (0.15-0.3 s of
    CPU in a process that has no other use for it, such as the local org's server)."""
    spec = find_spec("simple_salesforce")
    if spec is None:
        raise RuntimeError("simple-salesforce is not installed (its metadata.wsdl is the Metadata "
                           "API schema): run `make setup`")
    return Path(spec.submodule_search_locations[0]) / "metadata.wsdl"


def _wsdl_bytes() -> bytes:
    return _wsdl_path().read_bytes()


def _wsdl_version() -> str:
    with _wsdl_path().open("rb") as wsdl:
        found = re.search(rb"Metadata API version (\d+\.\d+)", wsdl.read(1000))
    if not found:
        raise RuntimeError("simple_salesforce/metadata.wsdl does not state its API version")
    return found.group(1).decode()


SCHEMA_API_VERSION = _wsdl_version()


def _local(qname: str) -> str:
    """'tns:Flow' -> 'Flow'; 'xsd:int' -> 'xs:int' (the spelling lxml uses)."""
    prefix, _, name = qname.rpartition(":")
    return f"xs:{name}" if prefix in ("xsd", "xs") else name


@lru_cache(maxsize=1)
def _schema() -> _Schema:
    source = etree.fromstring(_wsdl_bytes()).find(f".//{{{XSD_NS}}}schema")
    # The types refer to each other as tns:X; tns is declared on the WSDL root, so the
    # standalone schema needs it declared again.
    xsd = etree.Element(f"{{{XSD_NS}}}schema", attrib=dict(source.attrib),
                        nsmap={"xsd": XSD_NS, "tns": MD_NS})
    xsd.extend(list(source))

    bases: dict[str, str] = {}
    own: dict[str, list[_Child]] = {}
    enums: dict[str, list[str]] = {}
    for ctype in xsd.iterfind(f"{{{XSD_NS}}}complexType"):
        name = ctype.get("name")
        ext = ctype.find(f"{{{XSD_NS}}}complexContent/{{{XSD_NS}}}extension")
        if ext is not None:
            bases[name] = _local(ext.get("base"))
        own[name] = [
            _Child(el.get("name"), _local(el.get("type", "xsd:string")),
                   el.get("maxOccurs", "1") != "1")
            for el in ctype.iter(f"{{{XSD_NS}}}element")
        ]
    for stype in xsd.iterfind(f"{{{XSD_NS}}}simpleType"):
        enums[stype.get("name")] = [e.get("value") for e in stype.iter(f"{{{XSD_NS}}}enumeration")]

    def lineage(name: str) -> list[str]:
        chain = [name]
        while chain[-1] in bases:
            chain.append(bases[chain[-1]])
        return chain[::-1]

    children = {name: [c for t in lineage(name) for c in own.get(t, [])] for name in own}
    metadata_types = frozenset(n for n in own if n != "Metadata" and "Metadata" in lineage(n))
    for name in sorted(metadata_types):
        etree.SubElement(xsd, f"{{{XSD_NS}}}element", name=name, type=f"tns:{name}")
    return _Schema(etree.XMLSchema(etree.ElementTree(xsd)), SCHEMA_API_VERSION, children,
                   enums, metadata_types)


def child_order(type_name: str) -> list[str]:
    """The child elements of a Metadata API type, in the order the schema requires."""
    return [child.name for child in _schema().children[type_name]]


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)


def validate(source: str | Path | bytes, kind: str | None = None,
             filename: str | None = None) -> list[Finding]:
    """Check one metadata component; return its findings (empty when it is valid)."""
    if isinstance(source, bytes):
        data, name = source, filename or "<bytes>"
    else:
        data, name = Path(source).read_bytes(), filename or str(source)
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        doc = etree.fromstring(data, parser).getroottree()
    except etree.XMLSyntaxError as exc:
        return [Finding(CHECK, ERROR, name, f"XML syntax error: {exc.msg}",
                        line=exc.lineno or None, rule="xml-syntax")]
    root = doc.getroot()
    problem = _root_problem(root, kind)
    if problem:
        return [Finding(CHECK, ERROR, name, problem, line=root.sourceline,
                        element=etree.QName(root).localname, rule="root-element")]
    return _validate_tree(doc, name)


def _root_problem(root: etree._Element, kind: str | None) -> str | None:
    qname = etree.QName(root)
    if qname.namespace != MD_NS:
        return (f"root element <{qname.localname}> is not in the Metadata API namespace; "
                f'declare xmlns="{MD_NS}" on it')
    if qname.localname not in _schema().metadata_types:
        return f"<{qname.localname}> is not a Metadata API type"
    wanted = KIND_ALIASES.get(kind, kind) if kind else None
    if wanted and qname.localname != wanted:
        return f"expected a <{wanted}> component but the root element is <{qname.localname}>"
    return None


def _validate_tree(doc: etree._ElementTree, name: str) -> list[Finding]:
    sch = _schema()
    root = doc.getroot()
    version_el = root.find(f"{{{MD_NS}}}apiVersion")
    newer = _is_newer(version_el, sch.api_version)
    with _VALIDATION_LOCK:
        sch.xsd.validate(doc)
        errors = list(sch.xsd.error_log)
    findings, seen = [], set()
    for entry in errors:
        nodes = doc.xpath(entry.path) if entry.path else []
        node = nodes[0] if nodes and isinstance(nodes[0], etree._Element) else None
        key = entry.path or entry.line
        if key in seen:  # libxml2 may report one bad value twice (facet, then type)
            continue
        seen.add(key)
        rule, message, certain = _explain(entry.message, node)
        severity = ERROR if certain or not newer else WARNING
        findings.append(Finding(CHECK, severity, name, message, line=entry.line or None,
                                element=_path(node) if node is not None else None, rule=rule))
    if newer:
        findings.insert(0, Finding(
            CHECK, WARNING, name,
            f"apiVersion {version_el.text.strip()} is newer than the bundled schema "
            f"({sch.api_version}): elements and values added since {sch.api_version} cannot be "
            f"checked; {len(findings)} difference(s) from the {sch.api_version} schema "
            "reported as warnings",
            line=version_el.sourceline, element="apiVersion", rule="newer-api-version"))
    return findings


def _is_newer(version_el: etree._Element | None, schema_version: str) -> bool:
    try:
        return float(version_el.text) > float(schema_version)
    except (AttributeError, TypeError, ValueError):
        return False  # absent or not a number: the schema reports a bad number itself


def _path(node: etree._Element) -> str:
    """Readable element path: Flow/decisions(myDecision)/rules(myRule_1)/conditions[2]."""
    parts = []
    while node is not None:
        tag = etree.QName(node).localname
        label = node.findtext(f"{{{MD_NS}}}name")
        parent = node.getparent()
        if label:
            tag += f"({label.strip()})"
        elif parent is not None:
            same = parent.findall(node.tag)
            if len(same) > 1:
                tag += f"[{same.index(node) + 1}]"
        parts.append(tag)
        node = parent
    return "/".join(reversed(parts))


def _type_of(node: etree._Element) -> str | None:
    """The schema type of an element, found by walking the content model from the root."""
    chain = []
    while node is not None:
        chain.append(etree.QName(node).localname)
        node = node.getparent()
    chain.reverse()
    current = chain[0]
    children = _schema().children
    for step in chain[1:]:
        match = next((c for c in children.get(current, []) if c.name == step), None)
        if match is None:
            return None
        current = match.type
    return current


def _explain(message: str, node: etree._Element | None) -> tuple[str, str, bool]:
    """(rule, Salesforce-worded message, certain) for one lxml schema error."""
    message = message.replace(f"{{{MD_NS}}}", "").strip()
    parsed = _ELEMENT_MSG.match(message)
    if not parsed or node is None:
        return "schema", message, False
    element, detail = parsed.groups()
    if "[facet 'enumeration']" in detail:
        return _explain_enum(node)
    if detail.startswith("This element is not expected"):
        return _explain_unexpected(node, detail)
    if detail.startswith("Missing child element"):
        wanted = _expected_list(detail)
        return ("missing-element",
                f"<{element}> in {_where(node)} is missing the required {wanted}", False)
    atomic = re.search(r"'(.*)' is not a valid value of the atomic type '([^']+)'", detail, re.S)
    if atomic:
        value, xstype = atomic.groups()
        kind = _FRIENDLY_TYPES.get(xstype, xstype)
        return "invalid-value", f"'{value}' is not a valid {kind} for <{element}>", False
    return "schema", f"<{element}>: {detail}", False


def _explain_enum(node: etree._Element) -> tuple[str, str, bool]:
    value = (node.text or "").strip()
    type_name = _type_of(node) or "value"
    allowed = _schema().enums.get(type_name, [])
    text = f"'{value}' is not a valid {type_name} for <{etree.QName(node).localname}>"
    same_but_case = [a for a in allowed if a.lower() == value.lower()]
    if same_but_case:
        return "invalid-value", f"{text}; did you mean '{same_but_case[0]}'?", True
    close = difflib.get_close_matches(value, allowed, n=3)
    if close:
        return "invalid-value", f"{text}; did you mean {_quoted(close, ' or ')}?", False
    if len(allowed) <= 12:
        return "invalid-value", f"{text}; allowed values: {_quoted(allowed)}", False
    return "invalid-value", f"{text} (see {type_name} in the Metadata API reference)", False


def _explain_unexpected(node: etree._Element, detail: str) -> tuple[str, str, bool]:
    tag = etree.QName(node).localname
    parent = node.getparent()
    parent_type = _type_of(parent) if parent is not None else None
    model = _schema().children.get(parent_type, [])
    names = [c.name for c in model]
    where = _where(node)
    expected = _expected_list(detail)
    if tag not in names:
        hint = difflib.get_close_matches(tag, names, n=1)
        hint_text = f"; did you mean <{hint[0]}>?" if hint else ""
        return ("unknown-element",
                f"<{tag}> is not a valid element of {parent_type or 'its parent'} "
                f"in {where}{hint_text}", False)
    order = names.index(tag)
    for sibling in node.itersiblings(preceding=True):
        other = etree.QName(sibling).localname
        if other in names and names.index(other) > order:
            return ("element-order",
                    f"<{tag}> is out of order in {where}: it must come before <{other}> "
                    f"(line {sibling.sourceline}); at this position Salesforce expected "
                    f"{expected}", True)
        if other == tag and not model[order].repeats:
            return ("duplicate-element",
                    f"<{tag}> appears more than once in {where}; only one is allowed "
                    f"(first at line {sibling.sourceline})", False)
    return ("unexpected-element",
            f"<{tag}> is not allowed here in {where}; Salesforce expected {expected}", False)


def _where(node: etree._Element) -> str:
    parent = node.getparent()
    return _path(parent) if parent is not None else "the document root"


def _expected_list(detail: str) -> str:
    found = re.search(r"Expected is(?: one of)? \( (.*) \)", detail)
    if not found:
        return "nothing more (end of element)"
    names = [n.strip() for n in found.group(1).split(",")]
    return " or ".join(f"<{n}>" for n in names[:6]) + (" ..." if len(names) > 6 else "")


def _quoted(values: list[str], sep: str = ", ") -> str:
    return sep.join(f"'{v}'" for v in values)
