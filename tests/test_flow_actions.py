"""POST /actions/custom/flow/<name>: an autolaunched flow run once per input, over REST."""

import pytest
import requests

from localorg.conditions import Cmp


def variable(name, data_type="String", inputs=False, outputs=False, object_type=None):
    obj = f"\n        <objectType>{object_type}</objectType>" if object_type else ""
    return f"""    <variables>
        <name>{name}</name>
        <dataType>{data_type}</dataType>
        <isCollection>false</isCollection>
        <isInput>{str(inputs).lower()}</isInput>
        <isOutput>{str(outputs).lower()}</isOutput>{obj}
    </variables>
"""


def flow(label, description, elements_before, elements_after, first, variables):
    """A small active autolaunched test flow; elements in the Metadata API schema's order
    (those sorting before `description`, then those after `processType`)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>63.0</apiVersion>
{elements_before}    <description>{description}</description>
    <label>{label}</label>
    <processType>AutoLaunchedFlow</processType>
{elements_after}    <start>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <connector><targetReference>{first}</targetReference></connector>
    </start>
    <status>Active</status>
{"".join(variables)}</Flow>
"""


FLOW = flow("Make Contact", "Test flow: one Contact per call input.", "", """    <recordCreates>
        <name>Create_Contact</name>
        <label>Create Contact</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <assignRecordIdToReference>contactId</assignRecordIdToReference>
        <inputAssignments>
            <field>LastName</field>
            <value><elementReference>lastName</elementReference></value>
        </inputAssignments>
        <inputAssignments>
            <field>Email</field>
            <value><elementReference>email</elementReference></value>
        </inputAssignments>
        <object>Contact</object>
    </recordCreates>
""", "Create_Contact", [variable("lastName", inputs=True), variable("email", inputs=True),
                         variable("contactId", outputs=True)])


@pytest.fixture(scope="module")
def org_with_flow(live):
    live.org.deploy_flow("Make_Contact", FLOW.encode())
    return live


def post(live, name, body):
    return requests.post(f"{live.url}/services/data/v63.0/actions/custom/flow/{name}",
                         json=body, headers={"Authorization": f"Bearer {live.token}"})


def contacts(live, email):
    with live.org.transaction() as txn:
        return txn.query("Contact", ["Id", "LastName"], where=Cmp("Email", "=", email))


def test_each_input_is_one_interview_with_its_outputs(org_with_flow):
    answer = post(org_with_flow, "Make_Contact", {"inputs": [
        {"lastName": "One", "email": "one@example.com"},
        {"lastName": "Two", "email": "two@example.com"}]})
    assert answer.status_code == 200
    results = answer.json()
    assert [r["isSuccess"] for r in results] == [True, True]
    assert {r["actionName"] for r in results} == {"Make_Contact"}
    made = contacts(org_with_flow, "one@example.com")
    assert results[0]["outputValues"]["contactId"] == made[0]["Id"]
    assert results[0]["outputValues"]["Flow__InterviewStatus"] == "Finished"
    assert results[0]["errors"] is None


def test_a_failing_input_rolls_the_call_back_and_is_named(org_with_flow):
    answer = post(org_with_flow, "Make_Contact", {"inputs": [
        {"lastName": "Kept?", "email": "three@example.com"},
        {"lastName": None, "email": "four@example.com"}]})  # LastName is required
    assert answer.status_code == 400
    first, second = answer.json()
    assert second["isSuccess"] is False and second["errors"][0]["statusCode"]
    assert first["isSuccess"] is False
    assert first["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert contacts(org_with_flow, "three@example.com") == []


@pytest.mark.parametrize("name, body, status, code", [
    ("No_Such_Flow", {"inputs": [{}]}, 404, "NOT_FOUND"),
    ("Make_Contact", {"inputs": [{"surname": "X"}]}, 400, "INVALID_INPUT"),
    ("Make_Contact", {"inputs": []}, 400, "JSON_PARSER_ERROR"),
    ("Make_Contact", {"inputs": [{"lastName": "x"}] * 201}, 400, "LIMIT_EXCEEDED"),
])
def test_a_bad_call_is_refused_naming_the_problem(org_with_flow, name, body, status, code):
    answer = post(org_with_flow, name, body)
    assert answer.status_code == status
    assert answer.json()[0]["errorCode"] == code


def test_the_call_needs_the_token(org_with_flow):
    answer = requests.post(f"{org_with_flow.url}/services/data/v63.0/actions/custom/flow/"
                           "Make_Contact", json={"inputs": [{"lastName": "x"}]})
    assert answer.status_code == 401


ECHO = flow("Echo Contact", "Test flow: returns the LastName of the Contact it is given.",
            """    <assignments>
        <name>Read_Last_Name</name>
        <label>Read Last Name</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <assignmentItems>
            <assignToReference>lastName</assignToReference>
            <operator>Assign</operator>
            <value><elementReference>contact.LastName</elementReference></value>
        </assignmentItems>
    </assignments>
""", "", "Read_Last_Name", [variable("contact", "SObject", inputs=True, object_type="Contact"),
                           variable("lastName", outputs=True)])


def test_a_record_input_is_what_the_call_gives_never_read_from_the_org(org_with_flow):
    org_with_flow.org.deploy_flow("Echo_Contact", ECHO.encode())
    saved = post(org_with_flow, "Make_Contact", {"inputs": [
        {"lastName": "Stored", "email": "stored@example.com"}]}).json()[0]
    contact_id = saved["outputValues"]["contactId"]
    answer = post(org_with_flow, "Echo_Contact", {"inputs": [
        {"contact": {"attributes": {"type": "Contact"}, "Id": contact_id}},
        {"contact": {"attributes": {"type": "Contact"}, "Id": contact_id, "LastName": "Given"}},
    ]}).json()
    assert [r["outputValues"]["lastName"] for r in answer] == [None, "Given"]
    wrong = post(org_with_flow, "Echo_Contact", {"inputs": [{"contact": {"Nickname": "x"}}]})
    assert wrong.status_code == 400
    assert wrong.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Nickname' on sobject of type Contact" in wrong.json()[0]["message"]
