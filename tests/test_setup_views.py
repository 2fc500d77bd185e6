"""FlowDefinitionView and EntityDefinition over REST query: read-only views of the org's flows
and objects, queried like any object (filters on the trigger object's relationship included)."""

from simple_salesforce import Salesforce

from localorg import calendly
from localorg.calendly import ROOT

SOQL = ("SELECT ApiName, IsActive, TriggerType, RecordTriggerType, HasAsyncAfterCommitPath, "
        "TriggerObjectOrEvent.QualifiedApiName FROM FlowDefinitionView "
        "WHERE TriggerObjectOrEvent.QualifiedApiName = 'Calendly__CalendlyAction__c'")


def test_flow_definition_view_names_each_flow_and_its_trigger_object(serve_org):
    org = calendly.local_org()
    for name in ("CreateEventTemplate", "Create_Event_Template"):
        org.deploy_flow(name, (ROOT / "flows" / f"{name}.flow-meta.xml").read_bytes())
    org.activate_flow("CreateEventTemplate", 1)
    live = serve_org(org)
    sf = Salesforce(instance_url=live.url, session_id=live.token, version="63.0")
    result = sf.query(SOQL)
    assert result["totalSize"] == 1  # the autolaunched subflow has no trigger object
    row = result["records"][0]
    assert row["attributes"]["type"] == "FlowDefinitionView"
    assert (row["ApiName"], row["IsActive"], row["TriggerType"]) == (
        "CreateEventTemplate", True, "RecordAfterSave")
    assert row["TriggerObjectOrEvent"]["attributes"]["type"] == "EntityDefinition"
    assert row["TriggerObjectOrEvent"]["QualifiedApiName"] == "Calendly__CalendlyAction__c"
    assert sf.query("SELECT count() FROM FlowDefinitionView")["totalSize"] == 2
    entity = sf.query("SELECT DurableId, KeyPrefix FROM EntityDefinition "
                      "WHERE QualifiedApiName = 'Contact'")["records"][0]
    assert (entity["DurableId"], entity["KeyPrefix"]) == ("Contact", "003")
