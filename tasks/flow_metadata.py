"""Flow files through the Metadata API: retrieve, compare, deploy (shared by the flow tasks)."""

import base64
import io
import zipfile

from cumulusci.salesforce_api.metadata import ApiDeploy, ApiRetrieveUnpackaged
from lxml import etree

MD_NS = "http://soap.sforce.com/2006/04/metadata"
PACKAGE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types>
{members}
        <name>Flow</name>
    </types>
    <version>{api_version}</version>
</Package>
"""


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
