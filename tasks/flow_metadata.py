"""Flow files through the Metadata API: retrieve, compare, deploy (shared by the flow tasks)."""

import base64
import io
import re
import zipfile

from cumulusci.salesforce_api.metadata import ApiDeploy, ApiRetrieveUnpackaged
from lxml import etree

MD_NS = "http://soap.sforce.com/2006/04/metadata"
# Flow API names: letter first, letters/digits/underscores, no "__", no trailing "_", <= 80.
FLOW_NAME = re.compile(r"^[A-Za-z](?!.*__)[A-Za-z0-9_]{0,79}(?<!_)$")
PACKAGE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types>
{members}
        <name>Flow</name>
    </types>
    <version>{api_version}</version>
</Package>
"""


def split_flow_name(api_name: str, default_namespace: str | None = None):
    """Split "Calendly__CreateEventTemplate" into ("Calendly", "CreateEventTemplate").

    Flow API names cannot contain "__", so a double underscore marks a namespace prefix.
    A name without one gets ``default_namespace`` (None: the org's own flows). Raises
    ValueError naming the rule when either part breaks it.
    """
    namespace, name = (
        api_name.split("__", 1) if "__" in api_name else (default_namespace or None, api_name)
    )
    for part in filter(None, (namespace, name)):
        if not FLOW_NAME.match(part):
            raise ValueError(
                f"{api_name!r} is not a valid flow API name: start with a letter, use letters, "
                "digits and single underscores, no trailing underscore, 80 characters at most"
            )
    return namespace, name


def package_xml(names, api_version: str) -> str:
    members = "\n".join(f"        <members>{name}</members>" for name in sorted(names))
    return PACKAGE_XML.format(members=members, api_version=api_version)


def canonical(xml: bytes, ignore_status: bool) -> bytes:
    """Whitespace- and comment-insensitive form of a flow, for "is it the same?" checks.

    ignore_status: leave <status> out, so a flow activated after its deploy (Draft in the
    file, Active in the org) still counts as the same flow.
    """
    parser = etree.XMLParser(remove_blank_text=True, remove_comments=True)
    root = etree.fromstring(xml, parser)
    if ignore_status:
        for status in root.findall(f"{{{MD_NS}}}status"):
            root.remove(status)
    for element in root.iter():
        if element.text is not None:
            element.text = element.text.strip()
    return etree.tostring(root, method="c14n")


def retrieve_flows(task, names, api_version: str) -> dict:
    """Retrieve the named flows (latest version each); {name: xml bytes} for those that exist."""
    task.logger.info(f"Retrieving flows: {', '.join(sorted(names))}")
    result = ApiRetrieveUnpackaged(task, package_xml(names, api_version), api_version)()
    found = {}
    for name in names:
        try:
            found[name] = result.read(f"flows/{name}.flow")
        except KeyError:
            continue
    return found


def deploy_flows(task, flows: dict, api_version: str):
    """Deploy {name: xml bytes} as one Metadata API package (rollbackOnError: all or nothing)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("package.xml", package_xml(flows, api_version))
        for name, xml in flows.items():
            archive.writestr(f"flows/{name}.flow", xml)
    package_zip = base64.b64encode(buffer.getvalue()).decode("ascii")
    return ApiDeploy(task, package_zip, api_version=api_version)()


def manifest(members: dict, api_version: str) -> bytes:
    """A package.xml (or destructiveChanges.xml) listing {type: [member names]}."""
    root = etree.Element(f"{{{MD_NS}}}Package", nsmap={None: MD_NS})
    for kind, names in sorted(members.items()):
        if not names:
            continue
        types = etree.SubElement(root, f"{{{MD_NS}}}types")
        for name in sorted(names):
            etree.SubElement(types, f"{{{MD_NS}}}members").text = name
        etree.SubElement(types, f"{{{MD_NS}}}name").text = kind
    etree.SubElement(root, f"{{{MD_NS}}}version").text = api_version
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
