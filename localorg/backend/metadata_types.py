"""Metadata API types the local org keeps, their zip folders and suffixes, and XML helpers."""

from lxml import etree

from localorg.schema import MD_NS

# Metadata API folder and suffix of each type the local org keeps.
FOLDERS = {
    "Flow": ("flows", "flow"),
    "Layout": ("layouts", "layout"),
    "CustomObject": ("objects", "object"),
    "Profile": ("profiles", "profile"),
    "PermissionSet": ("permissionsets", "permissionset"),
    "InstalledPackage": ("installedPackages", "installedPackage"),
}
STORED_TYPES = ("Layout", "Profile", "PermissionSet")  # source kept by the store (components)
# A CustomObject's child kept as its own component, `Object.Name`, inside objects/Object.object
CHILD_TYPES = {"ListView": "listViews"}
RETRIEVABLE = ("Flow", *STORED_TYPES, *CHILD_TYPES)
PACKAGE_TYPE = "Package"  # unmanaged package manifests, by package name
BY_FOLDER = {folder: (kind, suffix) for kind, (folder, suffix) in FOLDERS.items()}
# Metadata API folders of types the local org does NOT emulate (named in the failure).
KNOWN_FOLDERS = {
    "classes": "ApexClass", "triggers": "ApexTrigger", "pages": "ApexPage",
    "components": "ApexComponent", "lwc": "LightningComponentBundle",
    "aura": "AuraDefinitionBundle",
    "applications": "CustomApplication", "tabs": "CustomTab", "flexipages": "FlexiPage",
    "staticresources": "StaticResource", "reports": "Report", "dashboards": "Dashboard",
    "email": "EmailTemplate", "labels": "CustomLabels", "customMetadata": "CustomMetadata",
    "workflows": "Workflow", "quickActions": "QuickAction", "settings": "Settings",
    "permissionsetgroups": "PermissionSetGroup", "flowDefinitions": "FlowDefinition",
    "recordTypes": "RecordType", "globalValueSets": "GlobalValueSet",
}


def file_name(kind: str, full_name: str) -> str:
    """The zip path of a component: `flows/X.flow`, a child type's `objects/Object.object`."""
    if kind in CHILD_TYPES:
        kind, full_name = "CustomObject", full_name.split(".", 1)[0]
    folder, suffix = FOLDERS[kind]
    return f"{folder}/{full_name}.{suffix}"


def md(el, name):
    """Stripped text of the Metadata-namespace child `name` of `el`, or None."""
    found = el.find(f"{{{MD_NS}}}{name}")
    return found.text.strip() if found is not None and found.text else None


def children_of(object_name: str, root) -> list:
    """[(kind, `Object.Name`, body)] of the child components (CHILD_TYPES) in a CustomObject
    file; each body is a standalone `<ListView>` document, as readMetadata returns it."""
    out = []
    for kind, tag in CHILD_TYPES.items():
        for el in root.findall(f"{{{MD_NS}}}{tag}"):
            name = md(el, "fullName")
            doc = etree.Element(f"{{{MD_NS}}}{kind}", nsmap={None: MD_NS})
            doc.extend(etree.fromstring(etree.tostring(el)))  # a copy: el stays in its file
            out.append((kind, f"{object_name}.{name}",
                        etree.tostring(doc, xml_declaration=True, encoding="UTF-8")))
    return out


def object_file(children: list) -> bytes:
    """An `objects/Object.object` file holding only the given [(kind, body)] children, as a
    retrieve of ListView members returns it."""
    doc = etree.Element(f"{{{MD_NS}}}CustomObject", nsmap={None: MD_NS})
    for kind, body in children:
        child = etree.fromstring(body)
        child.tag = f"{{{MD_NS}}}{CHILD_TYPES[kind]}"
        doc.append(child)
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8", pretty_print=True)
