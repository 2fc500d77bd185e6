"""A failed all-or-none DML statement leaves none of its rows, also when the caller catches it.

Salesforce: "if at least one sObject can't be processed, all remaining sObjects won't and an
exception will be thrown" (DML Statements vs. Database Class Methods); Apex that catches the
exception goes on in the same transaction without any of the statement's records.
"""

import json

import pytest
from simple_salesforce import Salesforce

from localorg.calendly import local_org
from localorg.errors import DmlError, SalesforceError

V = "63.0"
START, END = "2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z"


@pytest.fixture
def org():
    return local_org()


def names(txn, sobject, field="LastName"):
    return sorted(r[field] for r in txn.query(sobject, [field]))


def test_collections_all_or_none_keeps_none_and_answers_per_record(live):
    sf = Salesforce(instance=f"127.0.0.1:{live.port}", session_id=live.token, version=V)
    body = {"allOrNone": True, "records": [
        {"attributes": {"type": "Contact"}, "LastName": "Rolled-back-first"},
        {"attributes": {"type": "Contact"}, "FirstName": "No last name"},
        {"attributes": {"type": "Contact"}, "LastName": "Rolled-back-third"},
    ]}
    answer = sf.restful("composite/sobjects", method="POST", data=json.dumps(body))
    rolled_back = {"id": None, "success": False, "errors": [{
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": "Record rolled back because not all records were valid and the request "
                   "was using AllOrNone header", "fields": []}]}
    assert answer == [rolled_back, {"id": None, "success": False, "errors": [{
        "statusCode": "REQUIRED_FIELD_MISSING",
        "message": "Required fields are missing: [LastName]", "fields": ["LastName"]}]},
        rolled_back]
    left = sf.query("SELECT Id FROM Contact WHERE LastName LIKE 'Rolled-back-%'")
    assert left["totalSize"] == 0


def test_a_caught_failed_insert_leaves_none_of_its_rows(org):
    with org.transaction() as txn:
        with pytest.raises(DmlError) as exc:
            txn.insert("Contact", [{"LastName": "First"}, {"FirstName": "No last name"}])
        assert (exc.value.code, exc.value.index) == ("REQUIRED_FIELD_MISSING", 1)
        assert names(txn, "Contact") == []
        txn.insert("Contact", [{"LastName": "After"}])
    with org.transaction() as txn:
        assert names(txn, "Contact") == ["After"]


def test_a_caught_failed_update_and_delete_change_nothing(org):
    with org.transaction() as txn:
        first, second = txn.insert("Contact", [{"LastName": "A"}, {"LastName": "B"}])
    with org.transaction() as txn:
        with pytest.raises(DmlError) as exc:
            txn.update("Contact", [{"Id": first, "LastName": "A2"},
                                   {"Id": second, "LastName": None}])
        assert (exc.value.code, exc.value.index) == ("REQUIRED_FIELD_MISSING", 1)
        with pytest.raises(DmlError) as exc:
            txn.delete("Contact", [first, "003000000000000AAA"])
        assert exc.value.index == 1
    with org.transaction() as txn:
        assert names(txn, "Contact") == ["A", "B"]


def test_a_caught_failed_event_insert_leaves_no_event_and_no_relation(org):
    with org.transaction() as txn:
        (who,) = txn.insert("Contact", [{"LastName": "Invitee"}])
        with pytest.raises(DmlError) as exc:
            txn.insert("Event", [
                {"Subject": "Kept?", "StartDateTime": START, "EndDateTime": END, "WhoId": who},
                {"Subject": "Bad", "StartDateTime": START, "EndDateTime": "not a date"}])
        assert exc.value.index == 1
        assert txn.query("Event", ["Id"]) == []
        assert txn.query("EventRelation", ["Id"]) == []
    with org.transaction() as txn:
        assert txn.query("Event", ["Id"]) == [] and names(txn, "Contact") == ["Invitee"]


def test_partial_events_whose_relation_fails_after_the_write_leave_nothing(org, monkeypatch):
    """Partial success: an Event is written before its WhoId relation is checked, so a
    refused relation must take its Event along (its own savepoint), and only that one."""
    from localorg.backend.rules.eventrelation import EventRelation

    with org.transaction() as txn:
        kept, refused = txn.insert("Contact", [{"LastName": "Kept"}, {"LastName": "Refused"}])
    check = EventRelation.validate

    def validate(self, txn, rel):
        if rel["RelationId"] == refused:
            raise SalesforceError("FIELD_INTEGRITY_EXCEPTION", "refused in this test", [])
        check(self, txn, rel)

    monkeypatch.setattr(EventRelation, "validate", validate)
    with org.transaction() as txn:
        results = txn.insert("Event", [
            {"Subject": "A", "StartDateTime": START, "EndDateTime": END, "whoid": kept},
            {"Subject": "B", "StartDateTime": START, "EndDateTime": END, "WhoId": refused},
            {"Subject": "C", "StartDateTime": START, "EndDateTime": END}], all_or_none=False)
    assert [r["success"] for r in results] == [True, False, True]
    with org.transaction() as txn:
        assert names(txn, "Event", "Subject") == ["A", "C"]
        assert [r["RelationId"] for r in txn.query("EventRelation", ["RelationId"])] == [kept]
