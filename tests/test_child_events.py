"""Child Events: a User invitee's copy of an Event, read-only but for its reminder fields
(docs/fidelity.md, Activities)."""

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from localorg.backend import Org
from localorg.conditions import Cmp
from localorg.errors import SalesforceError
from localorg.users import complete_users

START = "2026-03-02T10:00:00.000+0000"
FIELDS = ["Id", "Subject", "OwnerId", "IsChild", "IsGroupEvent", "GroupEventType", "ShowAs",
          "StartDateTime", "EndDateTime", "IsReminderSet"]


@pytest.fixture
def org():
    return Org(":memory:")


def setup(org, n=0):
    """An Event owned by the admin with a User, a Contact invitee; returns their ids."""
    with org.transaction() as txn:
        [user] = txn.insert("User", complete_users(txn, [{
            "LastName": "Cohost", "Email": f"co{n}@x.test", "Username": f"co{n}@x.test",
            "Alias": f"co{n}"}]))
        [contact] = txn.insert("Contact", [{"LastName": "Guest", "Email": "g@x.test"}])
        [event] = txn.insert("Event", [{"Subject": "Demo", "StartDateTime": START,
                                        "DurationInMinutes": 30}])
        txn.insert("EventRelation", [{"EventId": event, "RelationId": user},
                                     {"EventId": event, "RelationId": contact}])
    return event, user, contact


def events(org):
    with org.transaction() as txn:
        return {r["Id"]: r for r in txn.query("Event", FIELDS)}


def test_a_user_invitee_gets_a_child_event(org):
    event, user, _ = setup(org)
    rows = events(org)
    assert len(rows) == 2  # the Contact invitee gets none
    child = next(r for r in rows.values() if r["IsChild"])
    parent = rows[event]
    assert child["OwnerId"] == user and not parent["IsChild"]
    assert (child["Subject"], child["StartDateTime"], child["EndDateTime"]) == (
        parent["Subject"], parent["StartDateTime"], parent["EndDateTime"])
    assert parent["IsGroupEvent"] and child["IsGroupEvent"]
    assert parent["GroupEventType"] == child["GroupEventType"] == "1"


def test_child_event_is_read_only_but_for_reminders(org):
    event, _, _ = setup(org)
    child = next(r for r in events(org).values() if r["IsChild"])["Id"]
    with pytest.raises(SalesforceError) as err, org.transaction() as txn:
        txn.update("Event", [{"Id": child, "Subject": "Canceled: Demo", "ShowAs": "Free"}])
    assert err.value.code == "FIELD_INTEGRITY_EXCEPTION"
    assert err.value.fields == ["ShowAs", "Subject"]
    with org.transaction() as txn:
        txn.update("Event", [{"Id": child, "IsReminderSet": True,
                              "ReminderDateTime": "2026-03-02T09:45:00.000+0000"}])
    assert events(org)[child]["IsReminderSet"] is True


def test_parent_changes_reach_the_child(org):
    event, _, _ = setup(org)
    with org.transaction() as txn:
        txn.update("Event", [{"Id": event, "Subject": "Canceled: Demo", "ShowAs": "Free"}])
    child = next(r for r in events(org).values() if r["IsChild"])
    assert (child["Subject"], child["ShowAs"]) == ("Canceled: Demo", "Free")


def test_removing_the_invitee_or_the_event_removes_the_child(org):
    event, user, _ = setup(org)
    with org.transaction() as txn:
        [rel] = txn.query("EventRelation", ["Id"], where=Cmp("RelationId", "=", user))
        txn.delete("EventRelation", [rel["Id"]])
    assert list(events(org)) == [event]
    event, user, _ = setup(org, 1)
    with org.transaction() as txn:
        txn.delete("Event", [event])
    assert not any(r["IsChild"] for r in events(org).values())


def test_deleting_a_child_takes_the_invitee_off_the_parent(org):
    event, user, contact = setup(org)
    child = next(r for r in events(org).values() if r["IsChild"])["Id"]
    with org.transaction() as txn:
        txn.delete("Event", [child])
        rels = txn.query("EventRelation", ["RelationId"], where=Cmp("EventId", "=", event))
    assert [r["RelationId"] for r in rels] == [contact]


def test_no_event_relation_on_a_child_event(org):
    _, _, contact = setup(org)
    child = next(r for r in events(org).values() if r["IsChild"])["Id"]
    with pytest.raises(SalesforceError) as err, org.transaction() as txn:
        txn.insert("EventRelation", [{"EventId": child, "RelationId": contact}])
    assert err.value.code == "FIELD_INTEGRITY_EXCEPTION" and err.value.fields == ["EventId"]


def test_rolled_back_invitation_leaves_no_child(org):
    event, _, _ = setup(org)
    with pytest.raises(RuntimeError), org.transaction() as txn:
        [user] = txn.insert("User", complete_users(txn, [{
            "LastName": "Two", "Email": "two@x.test", "Username": "two@x.test",
            "Alias": "two"}]))
        txn.insert("EventRelation", [{"EventId": event, "RelationId": user}])
        raise RuntimeError("caller gives up")
    assert sum(r["IsChild"] for r in events(org).values()) == 1
    with org.transaction() as txn:
        txn.update("Event", [{"Id": event, "Subject": "Renamed"}])  # syncs the one child only
    assert {r["Subject"] for r in events(org).values()} == {"Renamed"}


def test_child_event_update_through_rest(org, serve_org):
    setup(org)
    child = next(r for r in events(org).values() if r["IsChild"])["Id"]
    live = serve_org(org)
    sf = Salesforce(instance=f"127.0.0.1:{live.port}", session_id=live.token, version="63.0")
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Event.update(child, {"Subject": "Canceled: Demo"})
    assert err.value.content[0]["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert err.value.content[0]["fields"] == ["Subject"]
    assert sf.Event.update(child, {"IsReminderSet": True}) == 204
    rows = sf.query(f"SELECT IsChild, IsReminderSet FROM Event WHERE Id = '{child}'")["records"]
    assert (rows[0]["IsChild"], rows[0]["IsReminderSet"]) == (True, True)
