"""The Tooling API's objects as read-only virtual objects, queried by the same engine (`query`).

Objects (shapes from the Tooling API Developer Guide, atlas.en-us.api_tooling.meta):
- InstalledSubscriberPackage, SubscriberPackage, SubscriberPackageVersion: the packages the org
  reports installed (`Org.installed_packages()`), as `OrgConfig.installed_packages` queries them
  (tooling_api_objects_installedsubscriberpackage.htm, ..._subscriberpackageversion.htm).
- CustomObject (DeveloperName, NamespacePrefix, ManageableState), which CumulusCI's
  update_admin_profile queries for packaged objects (tooling_api_objects_customobject.htm).
- FlowDefinition and Flow: the org's flow versions (tooling_api_objects_flowdefinition.htm,
  tooling_api_objects_flow.htm). `FullName` and `Metadata` are selectable (the HTTP layer fills
  Metadata, and allows both only when the query returns at most one row).

The org stores flows and packages, not these records: `Catalog(org)` builds the rows on each
query, with ids that stay the same for the same thing across calls and restarts.
"""

import hashlib

from localorg import ids
from localorg.errors import SalesforceError
from localorg.schema import FieldDef, ObjectDef

ONE_ROW_ONLY = ("Metadata", "FullName")  # Flow and FlowDefinition only


def view_field(spec: str) -> FieldDef:
    """"Name" (string), "Name:type", or "NameId>Target" (a reference; relationship Name)."""
    name, _, target = spec.partition(">")
    name, _, kind = name.partition(":")
    if target:
        return FieldDef(name, "reference", reference_to=[target],
                        relationship_name=name[: -len("Id")], createable=False, updateable=False)
    return FieldDef(name, kind or "string", createable=False, updateable=False)


def view_object(name: str, prefix: str, specs: list) -> ObjectDef:
    odef = ObjectDef(name, prefix)
    for spec in ["Id:id", *specs]:
        odef.add(view_field(spec))
    return odef


OBJECTS = {odef.name: odef for odef in (
    view_object("InstalledSubscriberPackage", "0A3", [
        "SubscriberPackageId>SubscriberPackage",
        "SubscriberPackageVersionId>SubscriberPackageVersion"]),
    view_object("SubscriberPackage", "033", [
        "Name", "NamespacePrefix", "Description", "IsPackageValid:boolean"]),
    view_object("SubscriberPackageVersion", "04t", [
        "Name", "SubscriberPackageId>SubscriberPackage", "MajorVersion:int", "MinorVersion:int",
        "PatchVersion:int", "BuildNumber:int", "IsBeta:boolean", "IsManaged:boolean",
        "ReleaseState", "Package2ContainerOptions"]),
    view_object("FlowDefinition", "300", [
        "DeveloperName", "MasterLabel", "NamespacePrefix", "ActiveVersionId>Flow",
        "LatestVersionId>Flow", "Description", "ManageableState", "FullName",
        "Metadata:complexvalue"]),
    view_object("CustomObject", "01I", ["DeveloperName", "NamespacePrefix", "ManageableState"]),
    view_object("Flow", "301", [
        "DefinitionId>FlowDefinition", "MasterLabel", "VersionNumber:int", "Status",
        "ProcessType", "ManageableState", "Description", "ApiVersion:double", "FullName",
        "Metadata:complexvalue"]),
)}


def fields(sobject: str) -> list:
    """The object's field names as a record GET returns them (FullName and Metadata only on
    request)."""
    return [f.name for f in OBJECTS[sobject].fields.values() if f.name not in ONE_ROW_ONLY]


def stable_id(prefix: str, key: str) -> str:
    """An id that stays the same for the same thing across calls and restarts."""
    return ids.make_id(prefix, int(hashlib.sha1(key.encode()).hexdigest()[:12], 16) % 62**9)


class Catalog:
    """The Tooling objects of one org, for `query.find(..., catalog=Catalog(org))`."""

    def __init__(self, org):
        self._rows = {name: [] for name in OBJECTS}
        self._package_rows(org)
        self._flow_rows(org)
        self._custom_object_rows(org)
        self._by_id = {row["Id"]: (name, row) for name, rows in self._rows.items()
                       for row in rows}

    def describe(self, name: str) -> ObjectDef:
        found = next((o for n, o in OBJECTS.items() if n.lower() == str(name).lower()), None)
        if found is None:
            raise SalesforceError("INVALID_TYPE", f"sObject type '{name}' is not supported.")
        return found

    def sobjects(self) -> list:
        return list(OBJECTS.values())

    def rows(self, sobject: str) -> list:
        return self._rows[sobject]

    def fetch(self, record_id: str):
        return self._by_id.get(record_id, (None, None))

    def _package_rows(self, org):
        for pkg in org.installed_packages():
            ns = pkg["namespace"]
            major, minor, patch, build, beta = _version_parts(str(pkg["version"]))
            sp = {"Id": stable_id("033", ns), "Name": pkg.get("name") or ns,
                  "NamespacePrefix": ns, "Description": None, "IsPackageValid": True}
            spv = {"Id": stable_id("04t", f"{ns}@{pkg['version']}"),
                   "Name": f"{sp['Name']} {pkg['version']}", "SubscriberPackageId": sp["Id"],
                   "MajorVersion": major, "MinorVersion": minor, "PatchVersion": patch,
                   "BuildNumber": build, "IsBeta": beta, "IsManaged": True,
                   "ReleaseState": "Beta" if beta else "Released",
                   "Package2ContainerOptions": "Managed"}
            isp = {"Id": stable_id("0A3", ns), "SubscriberPackageId": sp["Id"],
                   "SubscriberPackageVersionId": spv["Id"]}
            self._rows["SubscriberPackage"].append(sp)
            self._rows["SubscriberPackageVersion"].append(spv)
            self._rows["InstalledSubscriberPackage"].append(isp)

    def _flow_rows(self, org):
        for item in org.flows():
            name = item["name"]
            def_id = stable_id("300", name)
            by_version = {}
            for v in item["versions"]:
                by_version[v["version"]] = {
                    "Id": stable_id("301", f"{name}#{v['version']}"), "DefinitionId": def_id,
                    "MasterLabel": item.get("label"), "VersionNumber": v["version"],
                    "Status": v["status"], "ProcessType": item.get("process_type"),
                    "ManageableState": "unmanaged", "Description": None, "ApiVersion": None,
                    "FullName": f"{name}-{v['version']}", "Metadata": None,
                }
            active = by_version.get(item["active_version"])
            latest = by_version.get(item["latest_version"])
            namespace, _, developer_name = name.rpartition("__") if "__" in name else ("", "",
                                                                                       name)
            self._rows["FlowDefinition"].append({
                "Id": def_id, "DeveloperName": developer_name, "MasterLabel": item.get("label"),
                "NamespacePrefix": namespace or None,
                "ActiveVersionId": active["Id"] if active else None,
                "LatestVersionId": latest["Id"] if latest else None,
                "Description": None, "ManageableState": "unmanaged", "FullName": name,
                "Metadata": None,
            })
            self._rows["Flow"].extend(by_version.values())

    def _custom_object_rows(self, org):
        """Custom objects; those of an installed package's namespace are its ("installed")."""
        namespaces = {p["namespace"] for p in org.installed_packages()}
        for odef in org.sobjects():
            if not odef.custom:
                continue
            namespace, _, developer_name = odef.name[: -len("__c")].rpartition("__")
            self._rows["CustomObject"].append({
                "Id": stable_id("01I", odef.name), "DeveloperName": developer_name,
                "NamespacePrefix": namespace or None,
                "ManageableState": "installed" if namespace in namespaces else "unmanaged",
            })


def _version_parts(text: str):
    beta = "b" in text
    number, _, build = text.partition("b")
    parts = [int(p) for p in number.split(".")] + [0, 0]
    return parts[0], parts[1], parts[2], int(build or 0), beta
