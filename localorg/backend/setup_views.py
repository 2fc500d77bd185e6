"""Setup objects of the data API as read-only virtual objects: `FlowDefinitionView` and the
`EntityDefinition` its trigger object points at, queried by the same engine (`query`); and
`FlowInterview`, the failed interviews of asynchronous flow paths (flow/asyncpath.py).

    SELECT ApiName, Label, TriggerType FROM FlowDefinitionView
    WHERE IsActive = true AND TriggerObjectOrEvent.QualifiedApiName = 'Account'

Fields are those of the Object Reference (FlowDefinitionView, EntityDefinition) that clients
here read; rows are built from the org's flows and objects on each query. `DurableId` of an
object (and so a flow's `TriggerObjectOrEventId`) is its API name for a standard object and a
stable `01I` id for a custom one (docs/fidelity.md, SOQL).
"""

from lxml import etree

from localorg.backend.tooling import stable_id, view_object

MD = "{http://soap.sforce.com/2006/04/metadata}"

OBJECTS = {odef.name: odef for odef in (
    view_object("FlowDefinitionView", "300", [
        "ApiName", "Label", "Description", "DurableId", "NamespacePrefix", "ProcessType",
        "TriggerType", "RecordTriggerType", "IsActive:boolean", "ActiveVersionId",
        "LatestVersionId", "HasAsyncAfterCommitPath:boolean",
        "TriggerObjectOrEventId>EntityDefinition", "TriggerObjectOrEventLabel"]),
    view_object("FlowInterview", "0Fo", [
        "Name", "Guid", "InterviewLabel", "InterviewStatus", "CurrentElement", "Error",
        "PauseLabel", "WasPausedFromScreen:boolean", "OwnerId", "CreatedById",
        "CreatedDate:datetime", "LastModifiedDate:datetime"]),
    view_object("EntityDefinition", "000", [
        "QualifiedApiName", "DeveloperName", "NamespacePrefix", "Label", "DurableId",
        "KeyPrefix", "IsCustomizable:boolean"]),
)}


def is_view(sobject: str) -> bool:
    return str(sobject).lower() in {name.lower() for name in OBJECTS}


class SetupViews:
    """The catalog of the setup views, for `query.find(..., catalog=SetupViews(org))`."""

    def __init__(self, org):
        self._rows = {"EntityDefinition": self._entities(org)}
        by_name = {row["QualifiedApiName"]: row for row in self._rows["EntityDefinition"]}
        self._rows["FlowDefinitionView"] = self._flows(org, by_name)
        trigger = org.flow_trigger  # failed interviews of asynchronous paths (flow/asyncpath.py)
        self._rows["FlowInterview"] = trigger.async_paths.failed_interviews() if trigger else []
        self._by_id = {row["Id"]: (name, row) for name, rows in self._rows.items()
                       for row in rows}

    def describe(self, name):
        return next(o for n, o in OBJECTS.items() if n.lower() == str(name).lower())

    def sobjects(self):
        return list(OBJECTS.values())

    def rows(self, sobject):
        return self._rows[sobject]

    def fetch(self, record_id):
        return self._by_id.get(record_id, (None, None))

    @staticmethod
    def _entities(org):
        rows = []
        for odef in org.sobjects():
            custom = odef.name.endswith("__c")
            durable = stable_id("01I", odef.name) if custom else odef.name
            namespace, _, developer = odef.name[:-3].rpartition("__") if custom else ("", "",
                                                                                     odef.name)
            rows.append({"Id": durable, "DurableId": durable, "QualifiedApiName": odef.name,
                         "DeveloperName": developer, "NamespacePrefix": namespace or None,
                         "Label": odef.label, "KeyPrefix": odef.key_prefix,
                         "IsCustomizable": True})
        return rows

    @staticmethod
    def _flows(org, entities):
        rows = []
        for item in org.flows():
            name = item["name"]
            version = item["active_version"] or item["latest_version"]
            start = etree.fromstring(org.flow_xml(name, version)).find(f"{MD}start")
            trigger_object = start.findtext(f"{MD}object") if start is not None else None
            entity = entities.get(trigger_object) if trigger_object else None
            namespace, _, api_name = name.rpartition("__") if "__" in name else ("", "", name)
            has_async = start is not None and any(
                path.findtext(f"{MD}pathType") == "AsyncAfterCommit"
                for path in start.findall(f"{MD}scheduledPaths"))
            durable = stable_id("300", name)
            rows.append({
                "Id": durable, "DurableId": durable, "ApiName": api_name,
                "Label": item.get("label"), "Description": None,
                "NamespacePrefix": namespace or None, "ProcessType": item.get("process_type"),
                "TriggerType": start.findtext(f"{MD}triggerType") if start is not None else None,
                "RecordTriggerType": (start.findtext(f"{MD}recordTriggerType")
                                      if start is not None else None),
                "IsActive": item["active_version"] is not None,
                "ActiveVersionId": (stable_id("301", f"{name}#{item['active_version']}")
                                    if item["active_version"] else None),
                "LatestVersionId": stable_id("301", f"{name}#{item['latest_version']}"),
                "HasAsyncAfterCommitPath": has_async,
                "TriggerObjectOrEventId": entity["DurableId"] if entity else None,
                "TriggerObjectOrEventLabel": entity["Label"] if entity else None,
            })
        return rows
