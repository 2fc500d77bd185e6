"""Describe-driven rules (issue 12 §1), through real clients against a fresh_live local org:
the describes of the standard objects are the recorded ones, and every DML route refuses what
the describe refuses (createable, updateable, nillable, restricted picklists, audit fields)."""

import json
from pathlib import Path

import pytest
import requests
from simple_salesforce.exceptions import SalesforceMalformedRequest

from localorg.describes import generate

V = "63.0"
RECORDED = Path(__file__).resolve().parents[2] / "shared" / "recorded"
needs_recorded = pytest.mark.skipif(
    not RECORDED.is_dir(), reason=f"recorded Salesforce samples not found at {RECORDED}")
START, END = "2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z"


def error_of(exc_info) -> dict:
    (error,) = exc_info.value.content
    return error


def post(fresh_live, path, body):
    return requests.post(f"{fresh_live.url}/services/data/v{V}{path}", json=body,
                         headers={"Authorization": f"Bearer {fresh_live.token}"})


# ----- describes --------------------------------------------------------------------------


@needs_recorded
def test_committed_describe_data_is_what_the_generator_makes():
    built = generate.build(RECORDED)
    for name, data in built.items():
        committed = json.loads((generate.HERE / f"{name}.json").read_text())
        assert committed == json.loads(json.dumps(data)), f"{name}.json is stale: run " \
            "python -m localorg.describes.generate"


@needs_recorded
@pytest.mark.parametrize("sobject", ["Contact", "Lead", "Event"])
def test_describe_is_the_recorded_one(fresh_sf, sobject):
    recorded = json.loads((RECORDED / f"GET_sobjects_{sobject}_describe.json").read_text())
    want = recorded["body"]
    got = getattr(fresh_sf, sobject).describe()
    got["fields"] = [f for f in got["fields"] if not f["custom"]]  # the Calendly stand-in's
    assert [f["name"] for f in got["fields"]] == [f["name"] for f in want["fields"]]
    for mine, theirs in zip(got["fields"], want["fields"], strict=True):
        assert mine == theirs, mine["name"]
    for key, value in want.items():
        if key == "recordTypeInfos":  # urls name the API version of the request
            value = [{k: v for k, v in i.items() if k != "urls"} for i in value]
            got[key] = [{k: v for k, v in i.items() if k != "urls"} for i in got[key]]
        if key not in generate.OBJECT_SKIP:
            assert got[key] == value, key


@needs_recorded
def test_global_describe_flags_of_user_and_organization_are_the_recorded_ones(fresh_sf):
    recorded = json.loads((RECORDED / "GET_sobjects_global_describe.json").read_text())
    want = {o["name"]: o for o in recorded["body"]["sobjects"]}
    got = {o["name"]: o for o in fresh_sf.describe()["sobjects"]}
    for name in ("User", "Organization", "Contact"):
        for key in ("createable", "updateable", "deletable", "queryable", "label",
                    "labelPlural", "custom"):
            assert got[name][key] == want[name][key], (name, key)


def test_describe_attributes_the_issue_names(fresh_sf):
    """Read through simple-salesforce: the differences issue 12 found are gone."""
    event = {f["name"]: f for f in fresh_sf.Event.describe()["fields"]}
    assert event["ShowAs"]["restrictedPicklist"] is True
    assert [v["value"] for v in event["ShowAs"]["picklistValues"]] == ["Busy", "OutOfOffice",
                                                                        "Free"]
    assert event["Subject"]["type"] == "combobox"
    assert event["OwnerId"]["polymorphicForeignKey"] is True
    assert event["OwnerId"]["referenceTo"] == ["Calendar", "User"]
    contact = {f["name"]: f for f in fresh_sf.Contact.describe()["fields"]}
    assert len(contact) == 59
    assert contact["Name"]["nillable"] is False and contact["Name"]["idLookup"] is False
    lead = {f["name"]: f for f in fresh_sf.Lead.describe()["fields"]}
    assert lead["IsConverted"]["updateable"] is False
    assert not (lead["ConvertedContactId"]["createable"] or lead["ConvertedDate"]["createable"])
    assert contact["CreatedDate"]["createable"] is False


def test_audit_permission_shows_in_the_describe(fresh_live, fresh_sf):
    fresh_live.org.allow_audit_fields(True)
    contact = {f["name"]: f for f in fresh_sf.Contact.describe()["fields"]}
    assert contact["CreatedDate"]["createable"] is True
    assert contact["CreatedDate"]["updateable"] is False
    assert contact["SystemModstamp"]["createable"] is False
    fresh_live.org.allow_audit_fields(False)
    contact = {f["name"]: f for f in fresh_sf.Contact.describe()["fields"]}
    assert contact["CreatedDate"]["createable"] is False


# ----- DML refused by the describe -------------------------------------------------------

WRITE_REFUSED = ("Unable to create/update fields: {}. Please check the security settings of "
                 "this field and verify that it is read/write for your profile or permission "
                 "set.")


def test_created_date_needs_the_audit_permission(fresh_live, fresh_sf):
    record = {"LastName": "Old", "CreatedDate": "2020-01-01T00:00:00Z"}
    with pytest.raises(SalesforceMalformedRequest) as exc:
        fresh_sf.Contact.create(record)
    error = error_of(exc)
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert error["message"] == WRITE_REFUSED.format("CreatedDate")
    assert error["fields"] == ["CreatedDate"]
    assert fresh_sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0
    fresh_live.org.allow_audit_fields(True)
    new_id = fresh_sf.Contact.create(record)["id"]
    assert fresh_sf.Contact.get(new_id)["CreatedDate"] == "2020-01-01T00:00:00.000+0000"
    with pytest.raises(SalesforceMalformedRequest) as exc:  # never on update
        fresh_sf.Contact.update(new_id, {"CreatedDate": "2021-01-01T00:00:00Z"})
    assert error_of(exc)["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_every_refused_field_is_named_once(fresh_sf):
    with pytest.raises(SalesforceMalformedRequest) as exc:
        fresh_sf.Contact.create({"LastName": "X", "CreatedDate": "2020-01-01T00:00:00Z",
                           "LastModifiedDate": "2020-01-01T00:00:00Z", "Name": "X"})
    error = error_of(exc)
    assert error["fields"] == ["CreatedDate", "LastModifiedDate", "Name"]
    assert error["message"] == WRITE_REFUSED.format("CreatedDate, LastModifiedDate, Name")


def test_collections_and_upsert_refuse_audit_fields_too(fresh_live):
    body = {"allOrNone": False, "records": [
        {"attributes": {"type": "Contact"}, "LastName": "A",
         "LastModifiedDate": "2020-01-01T00:00:00Z"},
        {"attributes": {"type": "Contact"}, "LastName": "B"}]}
    first, second = post(fresh_live, "/composite/sobjects", body).json()
    assert first["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert second["success"] is True
    fresh_live.org.allow_audit_fields(True)  # an upsert may not set them even so: INSERT only
    upsert = requests.patch(
        f"{fresh_live.url}/services/data/v{V}/composite/sobjects/Contact/Email",
        json={"allOrNone": False, "records": [
            {"attributes": {"type": "Contact"}, "LastName": "C", "Email": "new@x.test",
             "CreatedDate": "2020-01-01T00:00:00Z"}]},
        headers={"Authorization": f"Bearer {fresh_live.token}"})
    [result] = upsert.json()
    assert result["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_patch_of_a_leads_is_converted_fails(fresh_sf):
    lead_id = fresh_sf.Lead.create({"LastName": "Lee", "Company": "Acme"})["id"]
    for field, value in (("IsConverted", True), ("ConvertedDate", "2026-01-01"),
                         ("ConvertedContactId", None)):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            fresh_sf.Lead.update(lead_id, {field: value})
        error = error_of(exc)
        assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE", field
        assert error["fields"] == [field]
    assert fresh_sf.Lead.get(lead_id)["IsConverted"] is False


def test_show_as_tentative_is_refused(fresh_sf):
    event = {"Subject": "Call", "StartDateTime": START, "EndDateTime": END}
    with pytest.raises(SalesforceMalformedRequest) as exc:
        fresh_sf.Event.create({**event, "ShowAs": "Tentative"})
    error = error_of(exc)
    assert error["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert error["message"] == "Show Time As: bad value for restricted picklist field: Tentative"
    assert error["fields"] == ["ShowAs"]
    free = fresh_sf.Event.create({**event, "ShowAs": "Free"})["id"]
    assert fresh_sf.Event.get(free)["ShowAs"] == "Free"


def test_required_fields_are_the_describes_not_nillable_not_defaulted(fresh_sf):
    with pytest.raises(SalesforceMalformedRequest) as exc:
        fresh_sf.Lead.create({"FirstName": "No", "Email": "no@x.test"})
    error = error_of(exc)
    assert error["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert error["fields"] == ["LastName", "Company"]
    lead = fresh_sf.Lead.get(fresh_sf.Lead.create({"LastName": "Yes", "Company": "Acme"})["id"])
    assert lead["Status"] == "Open - Not Contacted"  # defaulted on create, so not required


# ----- polymorphic relationships: the Name object ------------------------------------------


def test_who_exposes_only_the_name_objects_fields(fresh_live, fresh_sf):
    contact_id = fresh_sf.Contact.create({"FirstName": "Pat", "LastName": "Client",
                                    "Email": "pat@client.test"})["id"]
    fresh_sf.Event.create({"Subject": "Call", "StartDateTime": START, "EndDateTime": END,
                     "WhoId": contact_id})
    with pytest.raises(SalesforceMalformedRequest) as exc:
        fresh_sf.query("SELECT Who.Company FROM Event")
    error = error_of(exc)
    assert error["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Company' on entity 'Name'." in error["message"]
    query = "SELECT Who.Name, Who.Type, Who.Email, Owner.Name FROM Event"
    [event] = fresh_sf.query(query)["records"]
    who = event["Who"]
    assert who["attributes"] == {"type": "Name",
                                 "url": f"/services/data/v{V}/sobjects/Contact/{contact_id}"}
    assert (who["Name"], who["Type"], who["Email"]) == ("Pat Client", "Contact",
                                                        "pat@client.test")
    assert event["Owner"]["attributes"]["type"] == "Name"  # OwnerId: Calendar or User
    with pytest.raises(SalesforceMalformedRequest) as exc:  # a Contact field Name lacks
        fresh_sf.query("SELECT Who.AccountId FROM Event")
    assert error_of(exc)["errorCode"] == "INVALID_FIELD"


def test_type_is_the_object_only_through_a_polymorphic_relationship(fresh_sf):
    """Account.Type is a picklist field; What.Type (the Name object's) is the object's name."""
    account_id = fresh_sf.Account.create({"Name": "Acme", "Type": "Prospect"})["id"]
    fresh_sf.Account.create({"Name": "Other", "Type": "Customer"})
    fresh_sf.Contact.create({"LastName": "Client", "AccountId": account_id})
    fresh_sf.Event.create({"Subject": "Call", "StartDateTime": START, "EndDateTime": END,
                           "WhatId": account_id})
    where = fresh_sf.query("SELECT Name, Type FROM Account WHERE Type = 'Prospect'")["records"]
    assert [(r["Name"], r["Type"]) for r in where] == [("Acme", "Prospect")]
    ordered = fresh_sf.query("SELECT Name FROM Account ORDER BY Type DESC")["records"]
    assert [r["Name"] for r in ordered] == ["Acme", "Other"]
    [contact] = fresh_sf.query("SELECT Account.Type FROM Contact "
                               "WHERE Account.Type = 'Prospect'")["records"]
    assert contact["Account"]["Type"] == "Prospect"
    [event] = fresh_sf.query("SELECT What.Type FROM Event WHERE What.Type = 'Account'")["records"]
    assert event["What"]["Type"] == "Account"
    with pytest.raises(SalesforceMalformedRequest) as exc:  # User has no Type field
        fresh_sf.query("SELECT Owner.Type FROM Contact")
    assert "No such column 'Type' on entity 'User'." in error_of(exc)["message"]


def test_upsert_keys_are_the_describes_id_lookup_fields(fresh_live):
    """Contact Name is not idLookup on Salesforce (recorded describe): no upsert on it."""
    headers = {"Authorization": f"Bearer {fresh_live.token}"}
    base = f"{fresh_live.url}/services/data/v{V}/composite/sobjects/Contact"
    body = {"allOrNone": False, "records": [{"attributes": {"type": "Contact"},
                                             "LastName": "A", "Email": "a@x.test"}]}
    assert requests.patch(f"{base}/Name", json=body, headers=headers).status_code == 404
    [result] = requests.patch(f"{base}/Email", json=body, headers=headers).json()
    assert result["success"] is True and result["created"] is True


def test_user_time_zone_is_a_restricted_picklist(fresh_sf):
    """TimeZoneSidKey takes the Salesforce time zones only (the values of the recorded
    Event.RecurrenceTimeZoneSidKey), on insert and on update; the other locale keys carry no
    values (docs/fidelity.md)."""
    fields = {f["name"]: f for f in fresh_sf.User.describe()["fields"]}
    zone = fields["TimeZoneSidKey"]
    assert zone["restrictedPicklist"] is True
    values = [v["value"] for v in zone["picklistValues"]]
    assert len(values) == 423 and {"GMT", "Europe/Paris", "America/New_York"} <= set(values)
    assert fields["LocaleSidKey"]["picklistValues"] == []
    admin = fresh_sf.query("SELECT Id, ProfileId FROM User")["records"][0]
    new = {"LastName": "Moon", "Email": "moon@acme.test", "Username": "moon@acme.test.x",
           "Alias": "moon", "ProfileId": admin["ProfileId"], "LocaleSidKey": "en_US",
           "EmailEncodingKey": "UTF-8", "LanguageLocaleKey": "en_US"}
    for call in (lambda: fresh_sf.User.create({**new, "TimeZoneSidKey": "Mars/Olympus"}),
                 lambda: fresh_sf.User.update(admin["Id"], {"TimeZoneSidKey": "Mars/Olympus"})):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            call()
        assert error_of(exc) == {
            "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "fields": ["TimeZoneSidKey"],
            "message": "Time Zone: bad value for restricted picklist field: Mars/Olympus"}
    moon = fresh_sf.User.create({**new, "TimeZoneSidKey": "Pacific/Kiritimati"})["id"]
    fresh_sf.User.update(admin["Id"], {"TimeZoneSidKey": "Europe/Paris"})
    assert fresh_sf.User.get(moon)["TimeZoneSidKey"] == "Pacific/Kiritimati"
    assert fresh_sf.User.get(admin["Id"])["TimeZoneSidKey"] == "Europe/Paris"
