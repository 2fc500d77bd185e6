"""Metadata API types the local org keeps, their zip folders and suffixes, and XML helpers."""

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
RETRIEVABLE = ("Flow", *STORED_TYPES)
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


def md(el, name):
    """Stripped text of the Metadata-namespace child `name` of `el`, or None."""
    found = el.find(f"{{{MD_NS}}}{name}")
    return found.text.strip() if found is not None and found.text else None
