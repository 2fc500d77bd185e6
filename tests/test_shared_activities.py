"""Shared Activities on and off (docs/fidelity.md, Org settings): the EventRelation describe,
DML and SOQL through the REST API, the WhoId's relation, the setting kept by the org."""

import pytest
from lxml import etree
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from localorg import scenario
from localorg.backend import Org, flow_refs
from localorg.backend.deploy import field_exists
from localorg.conditions import Cmp

V = "63.0"
ONLY_SHARED = {"IsParent", "IsWhat", "AccountId"}
START = "2026-03-02T10:00:00.000+0000"


def event_with_who(org):
    with org.transaction() as txn:
        [contact] = txn.insert("Contact", [{"LastName": "Pat", "Email": "pat@x.test"}])
        [event] = txn.insert("Event", [{"Subject": "Call", "StartDateTime": START,
                                        "DurationInMinutes": 30, "WhoId": contact}])
        return contact, event, txn.query("EventRelation", ["RelationId", "IsInvitee"],
                                         where=Cmp("EventId", "=", event))


@pytest.mark.parametrize("on", [True, False])
def test_eventrelation_fields_follow_the_setting(on):
    names = {f.name for f in Org(":memory:", shared_activities=on).describe(
        "EventRelation").fields.values()}
    assert {"IsParent", "IsWhat"} <= names if on else not ONLY_SHARED & names
    assert {"EventId", "RelationId", "IsInvitee", "Status"} <= names


def test_who_id_relates_only_with_shared_activities():
    contact, _, rels = event_with_who(Org(":memory:"))
    assert rels == [{"RelationId": contact, "IsInvitee": False}]
    _, _, rels = event_with_who(Org(":memory:", shared_activities=False))
    assert rels == []


def test_the_setting_belongs_to_the_org_and_survives_reopening(tmp_path):
    path = tmp_path / "org.sqlite3"
    assert Org(path, shared_activities=False).shared_activities is False
    reopened = Org(path)  # the argument applies to a new org only
    assert reopened.shared_activities is False
    assert not reopened.describe("EventRelation").has("IsParent")


def test_rest_describe_dml_and_soql_without_shared_activities(serve_org):
    org = Org(":memory:", shared_activities=False)
    live = serve_org(org)
    sf = Salesforce(instance=f"127.0.0.1:{live.port}", session_id=live.token, version=V)
    fields = {f["name"] for f in sf.EventRelation.describe()["fields"]}
    assert not ONLY_SHARED & fields and "IsInvitee" in fields
    contact, event, _ = event_with_who(org)
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.EventRelation.create({"EventId": event, "RelationId": contact, "IsParent": True})
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert "IsParent" in err.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT IsParent FROM EventRelation")
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"
    created = sf.EventRelation.create({"EventId": event, "RelationId": contact})
    rows = sf.query(f"SELECT IsInvitee FROM EventRelation WHERE Id = '{created['id']}'")
    assert rows["records"][0]["IsInvitee"] is True


def test_scenario_declares_the_setting(tmp_path):
    """A scenario may choose an org without Shared Activities; the project's flows set
    EventRelation.IsParent, so on such an org they fail to deploy, as on Salesforce."""
    path = tmp_path / "s.yml"
    path.write_text("settings: {shared_activities: false}\ntransactions: []\n")
    data = scenario.load(path)
    assert data["settings"] == {"shared_activities": False}
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.run(data)
    assert ("Create_Event_Participant_Template.flow-meta.xml can't be deployed to this org"
            in str(err.value))
    assert 'The field "IsParent" for the object "EventRelation" doesn\'t exist' in str(err.value)
    assert scenario.run({"settings": {"shared_activities": True}, "transactions": []})["ok"]
    path.write_text("settings: {shared_activity: false}\ntransactions: []\n")
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.load(path)
    assert "shared_activity" in str(err.value) and "shared_activities" in str(err.value)


def test_deploy_check_sees_record_variable_fields():
    """`rel.IsParent` on an EventRelation record variable names a field the describe must
    have: refused without Shared Activities (field integrity exception), fine with it."""
    xml = ('<Flow xmlns="http://soap.sforce.com/2006/04/metadata"><assignments><name>A</name>'
           "<assignmentItems><assignToReference>rel.IsParent</assignToReference>"
           "<operator>Assign</operator><value><booleanValue>true</booleanValue></value>"
           "</assignmentItems></assignments><variables><name>rel</name><dataType>SObject"
           "</dataType><isCollection>false</isCollection><isInput>false</isInput><isOutput>"
           "false</isOutput><objectType>EventRelation</objectType></variables></Flow>")
    for on, expected in ((True, []), (False, ['field integrity exception: unknown (The field '
                                               '"IsParent" for the object "EventRelation" '
                                               "doesn't exist.)"])):
        org = Org(":memory:", shared_activities=on)
        found = flow_refs.problems(etree.fromstring(xml),
                                   lambda o, f, org=org: field_exists(org, {}, o, f))
        assert [text for text, _ in found] == expected


def test_orgs_with_either_setting_side_by_side():
    """Each org has its own describe: making one without Shared Activities leaves the other's."""
    off, on = Org(":memory:", shared_activities=False), Org(":memory:")
    assert on.describe("EventRelation").has("IsParent")
    assert not off.describe("EventRelation").has("IsParent")
    assert Org(":memory:").describe("EventRelation").has("IsParent")
