"""Metadata API retrieves: the stored source of a manifest's members, as a zip.

Unpackaged (a package.xml) or one package name: the org's unmanaged packages, which deploys of a
package.xml with <fullName> create, as on Salesforce. Managed packages' components are not known
to the local org. Asynchronous as deploys are (`AsyncJob`). Result shapes: Metadata API
Developer Guide, meta_retrieveresult.htm.
"""

import io
import zipfile

from lxml import etree

from localorg.backend.jobs import AsyncJob
from localorg.backend.metadata_types import (
    CHILD_TYPES,
    PACKAGE_TYPE,
    RETRIEVABLE,
    STORED_TYPES,
    file_name,
    md,
    object_file,
)
from localorg.errors import SalesforceError
from localorg.schema import MD_NS


def source_of(org, kind: str, name: str) -> bytes | None:
    if kind == "Flow":
        try:
            return org.flow_xml(name)
        except SalesforceError:
            return None
    if kind in STORED_TYPES or kind in CHILD_TYPES:
        found = org.component(kind, name)
        if found is not None:
            return found["body"]
        if kind == "Profile" and name == "Admin":
            return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Profile xmlns="{MD_NS}">\n'
                    "    <custom>false</custom>\n    <userLicense>Salesforce</userLicense>\n"
                    "</Profile>\n").encode()
    return None


def names_of(org, kind: str) -> list:
    if kind == "Flow":
        return [f["name"] for f in org.flows()]
    if kind in STORED_TYPES or kind in CHILD_TYPES:
        return [c["full_name"] for c in org.components(kind)]
    return []


def collect(org, manifest) -> tuple:
    """Files, messages and file properties for the types/members of a package manifest. A
    child type's members (ListView) go into their object's file, `objects/Object.object`."""
    files, messages, props, children = {}, [], [], {}
    for types in manifest.findall(f"{{{MD_NS}}}types"):
        kind = md(types, "name")
        members = [m.text.strip() for m in types.findall(f"{{{MD_NS}}}members") if m.text]
        if kind not in RETRIEVABLE:
            messages.append((f"{kind}", f"Retrieving metadata type {kind} is not supported by "
                             "localorg (the embedded local org)"))
            continue
        if "*" in members:
            members = sorted(set(members) - {"*"} | set(names_of(org, kind)))
        for member in members:
            body = source_of(org, kind, member)
            path = file_name(kind, member)
            if body is None:
                messages.append((path, f"Entity of type '{kind}' named '{member}' cannot be "
                                 "found"))
                continue
            if kind in CHILD_TYPES:
                children.setdefault(path, []).append((kind, body))
            else:
                files[path] = body
            props.append((kind, member, path))
    for path, found in children.items():
        files[path] = object_file(found)
    return files, messages, props


def package_manifest(org, name: str):
    """The stored manifest of unmanaged package `name`; a SalesforceError when there is none."""
    stored = org.component(PACKAGE_TYPE, name)
    if stored is not None:
        return etree.fromstring(stored["body"])
    if name in {p["namespace"] for p in org.installed_packages()}:
        raise SalesforceError("NOT_IMPLEMENTED", f"Retrieving the components of managed "
                              f"package {name} is not implemented by localorg")
    raise SalesforceError("INVALID_CROSS_REFERENCE_KEY",
                          f"INVALID_CROSS_REFERENCE_KEY: No package named '{name}' found")


class Retrieve(AsyncJob):
    """One retrieve request (a RetrieveResult): of a manifest (`unpackaged`), or of the
    unmanaged package `package` (its manifest is looked up when the retrieve runs)."""

    def __init__(self, job_id: str, folder: str, manifest=None, package: str | None = None):
        super().__init__(job_id)
        self.folder, self.manifest, self.package = folder, manifest, package
        self.zip, self.messages, self.props = None, [], []
        self.error = None  # (errorStatusCode, errorMessage) of a failed retrieve

    def run(self, org) -> None:
        try:
            manifest = self.manifest if self.package is None else package_manifest(
                org, self.package)
        except SalesforceError as exc:
            self.error = (exc.code, exc.message)
            self.status = "Failed"
            return
        files, self.messages, self.props = collect(org, manifest)
        package_xml = etree.tostring(manifest, xml_declaration=True, encoding="UTF-8",
                                     pretty_print=True)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{self.folder}/package.xml", package_xml)
            for path, body in files.items():
                archive.writestr(f"{self.folder}/{path}", body)
        self.zip = buf.getvalue()
        self.status = "Succeeded"
