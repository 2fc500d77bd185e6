"""Metadata API (SOAP) of the local org, driven with CumulusCI's own envelopes."""

import base64
import io
import re
import zipfile

import pytest
import requests
from cumulusci.salesforce_api import soap_envelopes
from lxml import etree

from localorg import ids
from localorg.calendly import local_org

V = "63.0"
NS = {"m": "http://soap.sforce.com/2006/04/metadata"}
PACKAGE = """<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata"><version>63.0</version></Package>
"""
REJECT_FLOW = """<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>63.0</apiVersion>
    <customErrors>
        <name>Reject</name>
        <label>Reject</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <customErrorMessages>
            <errorMessage>Bookings are closed</errorMessage>
            <isFieldError>false</isFieldError>
        </customErrorMessages>
    </customErrors>
    <label>Reject Bookings</label>
    <processType>AutoLaunchedFlow</processType>
    <start>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <connector>
            <targetReference>Reject</targetReference>
        </connector>
        <object>Calendly__CalendlyAction__c</object>
        <recordTriggerType>Create</recordTriggerType>
        <triggerType>RecordAfterSave</triggerType>
    </start>
    <status>{status}</status>
</Flow>
"""
LAYOUT = """<?xml version="1.0" encoding="UTF-8"?>
<Layout xmlns="http://soap.sforce.com/2006/04/metadata">
    <layoutSections>
        <editHeading>true</editHeading>
        <label>Information</label>
        <layoutColumns>
            <layoutItems>
                <behavior>Required</behavior>
                <field>Subject</field>
            </layoutItems>
        </layoutColumns>
        <style>OneColumn</style>
    </layoutSections>
</Layout>
"""


@pytest.fixture
def live(serve_org):
    return serve_org(local_org())


def call(live, envelope: str, token=None):
    body = envelope.replace("###SESSION_ID###", token or live.token)
    response = requests.post(f"{live.url}/services/Soap/m/{V}/{live.org.org_id}",
                             data=body.encode(), headers={"Content-Type": "text/xml"})
    return response, etree.fromstring(response.content)


def make_zip(files: dict, package: str) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("package.xml", package)
        for name, text in files.items():
            archive.writestr(name, text)
    return base64.b64encode(buf.getvalue()).decode()


def start_deploy(live, files: dict, package: str = PACKAGE) -> str:
    envelope = soap_envelopes.DEPLOY.format(package_zip=make_zip(files, package),
                                            check_only="false",
                                            purge_on_delete="false", test_level="",
                                            run_tests="", api_version=V)
    response, doc = call(live, envelope)
    assert response.status_code == 200, response.text
    assert doc.findtext(".//m:done", namespaces=NS) == "false"
    return doc.findtext(".//m:id", namespaces=NS)


def poll(live, job: str):
    response, doc = call(live, soap_envelopes.CHECK_DEPLOY_STATUS.format(process_id=job))
    assert response.status_code == 200, response.text
    return doc


def until_done(live, status_envelope: str, job: str):
    """Poll a status call (checkDeployStatus, checkStatus, checkRetrieveStatus) until done."""
    for _ in range(5):
        _, doc = call(live, status_envelope.format(process_id=job))
        if doc.findtext(".//m:done", namespaces=NS) == "true":
            return doc
    raise AssertionError(f"job {job} not done after 5 polls")


def deploy(live, files: dict, package: str = PACKAGE):
    """Deploy and poll checkDeployStatus until done, as CumulusCI's ApiDeploy does."""
    return until_done(live, soap_envelopes.CHECK_DEPLOY_STATUS, start_deploy(live, files, package))


def start_retrieve(live, envelope: str) -> str:
    _, doc = call(live, envelope)
    assert doc.findtext(".//m:done", namespaces=NS) == "false"
    return doc.findtext(".//m:id", namespaces=NS)


def retrieve(live, types: str) -> tuple:
    """Retrieve, poll checkStatus until done, then checkRetrieveStatus, as CumulusCI does."""
    job = start_retrieve(live, soap_envelopes.RETRIEVE_UNPACKAGED.format(api_version=V,
                                                                         package_xml=types))
    until_done(live, soap_envelopes.CHECK_STATUS, job)
    _, doc = call(live, soap_envelopes.CHECK_RETRIEVE_STATUS.format(process_id=job))
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(doc.findtext(".//m:zipFile",
                                                                       namespaces=NS))))
    problems = [m.findtext("m:problem", namespaces=NS) for m in doc.findall(".//m:messages", NS)]
    return archive, problems


def failures(doc) -> list:
    return [
        {child: f.findtext(f"m:{child}", namespaces=NS)
         for child in ("componentType", "fullName", "problem", "problemType", "lineNumber")}
        for f in doc.findall(".//m:componentFailures", NS)
    ]


def test_a_deploy_is_queued_then_in_progress_then_succeeds_on_a_later_poll(live):
    """deploy() answers an AsyncResult that is not done (state Queued) with a valid 0Af id;
    checkDeployStatus reports InProgress with nothing applied yet, then Succeeded with the
    component results (Metadata API Developer Guide: meta_deploy.htm, meta_deployresult.htm)."""
    job = start_deploy(live, {"flows/Reject_Bookings.flow": REJECT_FLOW.format(status="Draft")})
    assert len(job) == 18 and job.startswith("0Af") and ids.to18(job[:15]) == job
    first = poll(live, job)
    assert first.findtext(".//m:done", namespaces=NS) == "false"
    assert first.findtext(".//m:status", namespaces=NS) == "InProgress"
    assert first.findall(".//m:componentSuccesses", NS) == []
    assert not [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]
    second = poll(live, job)
    assert second.findtext(".//m:done", namespaces=NS) == "true"
    assert second.findtext(".//m:status", namespaces=NS) == "Succeeded"
    names = [s.findtext("m:fullName", namespaces=NS)
             for s in second.findall(".//m:componentSuccesses", NS)]
    assert "Reject_Bookings" in names
    assert [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]
    again = poll(live, job)  # a finished deploy stays finished
    assert again.findtext(".//m:status", namespaces=NS) == "Succeeded"
    assert len([f for f in live.org.flows() if f["name"] == "Reject_Bookings"]) == 1


def test_cancel_deploy_of_a_queued_deploy_applies_nothing(live):
    job = start_deploy(live, {"flows/Reject_Bookings.flow": REJECT_FLOW.format(status="Draft")})
    envelope = soap_envelopes.CHECK_DEPLOY_STATUS.replace("checkDeployStatus", "cancelDeploy")
    response, _ = call(live, envelope.format(process_id=job))
    assert response.status_code == 200, response.text
    doc = poll(live, job)
    assert doc.findtext(".//m:done", namespaces=NS) == "true"
    assert doc.findtext(".//m:status", namespaces=NS) == "Canceled"
    assert not [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]


def test_bad_session_is_a_soap_fault(live):
    response, doc = call(live, soap_envelopes.CHECK_STATUS.format(process_id="09S000"),
                         token="wrong")
    assert response.status_code == 500
    assert doc.findtext(".//faultcode") == "sf:INVALID_SESSION_ID"


def test_deploy_flow_then_insert_fails_with_the_flows_error_and_rolls_back(live):
    doc = deploy(live, {"flows/Reject_Bookings.flow": REJECT_FLOW.format(status="Active")})
    assert doc.findtext(".//m:status", namespaces=NS) == "Succeeded"
    names = [s.findtext("m:fullName", namespaces=NS)
             for s in doc.findall(".//m:componentSuccesses", NS)]
    assert "Reject_Bookings" in names
    [flow] = [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]
    assert flow["active_version"] == 1
    headers = {"Authorization": f"Bearer {live.token}"}
    response = requests.post(
        f"{live.url}/services/data/v{V}/sobjects/Calendly__CalendlyAction__c",
        json={"Name": "invitee.created", "Calendly__InviteeUuid__c": "inv-1"}, headers=headers)
    assert response.status_code == 400
    [error] = response.json()
    assert error["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert "Bookings are closed" in error["message"]
    count = requests.get(f"{live.url}/services/data/v{V}/query", headers=headers,
                         params={"q": "SELECT count() FROM Calendly__CalendlyAction__c"})
    assert count.json()["totalSize"] == 0
    # Collections, even without allOrNone: the failed trigger fails the whole batch.
    body = {"allOrNone": False, "records": [
        {"attributes": {"type": "Calendly__CalendlyAction__c"}, "Name": "invitee.created",
         "Calendly__InviteeUuid__c": f"inv-{i}"} for i in range(3)]}
    results = requests.post(f"{live.url}/services/data/v{V}/composite/sobjects", json=body,
                            headers=headers).json()
    codes = [r["errors"][0]["statusCode"] for r in results]
    assert codes == ["FIELD_CUSTOM_VALIDATION_EXCEPTION"] * 3
    count = requests.get(f"{live.url}/services/data/v{V}/query", headers=headers,
                         params={"q": "SELECT count() FROM Calendly__CalendlyAction__c"})
    assert count.json()["totalSize"] == 0


def test_component_failures_name_file_problem_and_line_and_nothing_is_applied(live):
    doc = deploy(live, {
        "flows/Good_Flow.flow": REJECT_FLOW.format(status="Draft"),
        "flows/Bad_Flow.flow": REJECT_FLOW.format(status="Actve"),
        "classes/Foo.cls": "public class Foo {}",
        "classes/Foo.cls-meta.xml": "<ApexClass/>",
        "installedPackages/Calendly.installedPackage":
            '<InstalledPackage xmlns="http://soap.sforce.com/2006/04/metadata">'
            "<activateRSS>false</activateRSS><versionNumber>3.0</versionNumber>"
            "</InstalledPackage>",
    })
    assert doc.findtext(".//m:status", namespaces=NS) == "Failed"
    assert doc.findtext(".//m:success", namespaces=NS) == "false"
    by_name = {f["fullName"]: f for f in failures(doc)}
    assert set(by_name) == {"Bad_Flow", "Foo", "Calendly"}
    assert by_name["Bad_Flow"]["componentType"] == "Flow"
    assert "Actve" in by_name["Bad_Flow"]["problem"]
    assert by_name["Bad_Flow"]["lineNumber"]
    assert "ApexClass is not supported by localorg" in by_name["Foo"]["problem"]
    assert "package along with other metadata types" in by_name["Calendly"]["problem"]
    assert {f["problemType"] for f in failures(doc)} == {"Error"}
    assert not [f for f in live.org.flows() if f["name"] == "Good_Flow"]  # rollbackOnError


def test_layout_round_trip_and_list_metadata(live):
    doc = deploy(live, {"layouts/Event-Event Layout.layout": LAYOUT})
    assert doc.findtext(".//m:status", namespaces=NS) == "Succeeded"
    archive, problems = retrieve(
        live, "<types><members>Event-Event Layout</members><members>Nope</members>"
              "<name>Layout</name></types><version>63.0</version>")
    assert archive.read("unpackaged/layouts/Event-Event Layout.layout").decode() == LAYOUT
    assert b"<members>Event-Event Layout</members>" in archive.read("unpackaged/package.xml")
    assert problems == ["Entity of type 'Layout' named 'Nope' cannot be found"]
    listing = soap_envelopes.LIST_METADATA.format(metadata_type="Layout", folder="",
                                                  as_of_version=V)
    _, doc = call(live, listing)
    names = [r.findtext("m:fullName", namespaces=NS) for r in doc.findall(".//m:result", NS)]
    assert names == ["Event-Event Layout"]


MOOD_FIELD = """<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <fields>
        <fullName>Mood__c</fullName>
        <label>Mood</label>
        <length>40</length>
        <type>Text</type>
    </fields>
</CustomObject>
"""


def test_custom_field_deploy_extends_the_schema(live):
    doc = deploy(live, {"objects/Contact.object": MOOD_FIELD})
    assert doc.findtext(".//m:status", namespaces=NS) == "Succeeded", failures(doc)
    assert live.org.describe("Contact").has("Mood__c")


def test_unknown_operation_is_a_not_implemented_fault(live):
    envelope = soap_envelopes.DESCRIBE_METADATA.format(api_version=V)
    response, doc = call(live, envelope)
    assert response.status_code == 500
    assert doc.findtext(".//faultcode") == "sf:NOT_IMPLEMENTED"
    assert "describeMetadata is not implemented by localorg" in doc.findtext(".//faultstring")


def test_deploy_with_full_name_makes_an_unmanaged_package_that_retrieves_by_name(live):
    envelope = soap_envelopes.RETRIEVE_PACKAGED.format(api_version=V, package_name="MyPkg")
    job = start_retrieve(live, envelope)
    first = call(live, soap_envelopes.CHECK_RETRIEVE_STATUS.format(process_id=job))[1]
    assert first.findtext(".//m:done", namespaces=NS) == "false"
    assert first.findtext(".//m:status", namespaces=NS) == "InProgress"
    doc = until_done(live, soap_envelopes.CHECK_RETRIEVE_STATUS, job)
    assert doc.findtext(".//m:status", namespaces=NS) == "Failed"
    assert "No package named 'MyPkg' found" in doc.findtext(".//m:errorMessage", namespaces=NS)

    named = PACKAGE.replace("<version>", "<fullName>MyPkg</fullName><types><members>"
                            "Event-Event Layout</members><name>Layout</name></types><version>")
    deploy(live, {"layouts/Event-Event Layout.layout": LAYOUT}, named)
    job = start_retrieve(live, envelope)
    assert job.startswith("09S") and ids.to18(job[:15]) == job
    doc = until_done(live, soap_envelopes.CHECK_RETRIEVE_STATUS, job)
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(doc.findtext(".//m:zipFile",
                                                                       namespaces=NS))))
    assert archive.read("MyPkg/layouts/Event-Event Layout.layout").decode() == LAYOUT
    manifest = etree.fromstring(archive.read("MyPkg/package.xml"))
    assert manifest.findtext("m:fullName", namespaces=NS) == "MyPkg"
    assert manifest.findtext("m:types/m:members", namespaces=NS) == "Event-Event Layout"


def test_a_new_org_has_the_stock_event_layout_without_attendees(live):
    archive, problems = retrieve(
        live, "<types><members>Event-Event Layout</members><name>Layout</name></types>"
              "<version>63.0</version>")
    assert problems == []
    stock = etree.fromstring(archive.read("unpackaged/layouts/Event-Event Layout.layout"))
    project = etree.parse("force-app/main/default/layouts/Event-Event Layout.layout-meta.xml",
                          etree.XMLParser(remove_comments=True)).getroot()
    fields = [f.text for f in stock.iterfind(".//m:layoutItems/m:field", NS)]
    project_fields = [f.text for f in project.iterfind(".//m:layoutItems/m:field", NS)]
    assert "Attendees" not in fields and "Attendees" in project_fields
    assert fields == [f for f in project_fields if f != "Attendees"]  # stock = project - Attendees


def test_read_metadata_returns_the_stored_layout(live):
    envelope = soap_envelopes.LIST_METADATA.split("<soap:Body>")[0] + (
        "<soap:Body><readMetadata xmlns=\"http://soap.sforce.com/2006/04/metadata\">"
        "<type>Layout</type><fullNames>Event-Event Layout</fullNames><fullNames>Nope</fullNames>"
        "</readMetadata></soap:Body></soap:Envelope>")
    response, doc = call(live, envelope)
    assert response.status_code == 200
    [record] = doc.findall(".//m:records", NS)
    assert record.findtext("m:fullName", namespaces=NS) == "Event-Event Layout"
    assert record.findtext("m:layoutSections/m:label", namespaces=NS) == "Calendar Event Details"


FAILING_FLOW = """<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>63.0</apiVersion>
    <label>Fail Bookings</label>
    <processType>AutoLaunchedFlow</processType>
    <recordCreates>
        <name>Create_Contact_Without_Last_Name</name>
        <label>Create Contact Without Last Name</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <inputAssignments>
            <field>FirstName</field>
            <value>
                <stringValue>Nameless</stringValue>
            </value>
        </inputAssignments>
        <object>Contact</object>
    </recordCreates>
    <start>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <connector>
            <targetReference>Create_Contact_Without_Last_Name</targetReference>
        </connector>
        <object>Calendly__CalendlyAction__c</object>
        <recordTriggerType>Create</recordTriggerType>
        <triggerType>RecordAfterSave</triggerType>
    </start>
    <status>Active</status>
</Flow>
"""


def test_a_faulting_record_triggered_flow_fails_the_rest_insert_and_saves_nothing(live):
    """A flow element failing with no fault path: Salesforce's CANNOT_EXECUTE_FLOW_TRIGGER ("We
    can't save this record because the … process failed", localorg.flow.trigger cites where that
    text is seen), 400, and neither the record nor the flow's own DML is kept."""
    doc = deploy(live, {"flows/Fail_Bookings.flow": FAILING_FLOW})
    assert doc.findtext(".//m:status", namespaces=NS) == "Succeeded"
    headers = {"Authorization": f"Bearer {live.token}"}
    response = requests.post(
        f"{live.url}/services/data/v{V}/sobjects/Calendly__CalendlyAction__c",
        json={"Name": "invitee.created", "Calendly__InviteeUuid__c": "inv-f"}, headers=headers)
    assert response.status_code == 400
    [error] = response.json()
    assert error["errorCode"] == "CANNOT_EXECUTE_FLOW_TRIGGER"
    assert error["message"].startswith(
        "We can't save this record because the “Fail Bookings” process failed.")
    assert "LastName" in error["message"]
    for sobject in ("Calendly__CalendlyAction__c", "Contact"):
        count = requests.get(f"{live.url}/services/data/v{V}/query", headers=headers,
                             params={"q": f"SELECT count() FROM {sobject}"})
        assert count.json()["totalSize"] == 0, sobject


LOOKUP = """    <recordLookups>
        <name>Get_Contacts</name>
        <label>Get Contacts</label>
        <locationX>0</locationX>
        <locationY>0</locationY>
        <assignNullValuesIfNoRecordsFound>false</assignNullValuesIfNoRecordsFound>
        <filterLogic>and</filterLogic>
        <filters>
            <field>{field}</field>
            <operator>EqualTo</operator>
            <value>
                <elementReference>$Record.{record_field}</elementReference>
            </value>
        </filters>
        <getFirstRecordOnly>false</getFirstRecordOnly>
        <object>Contact</object>
        <queriedFields>Id</queriedFields>
        <storeOutputAutomatically>true</storeOutputAutomatically>
    </recordLookups>
"""
# FAILING_FLOW with a Get Records of Contact in place of its Create Records, as a Draft.
LOOKUP_FLOW = re.sub(r"    <recordCreates>.*</recordCreates>\n", lambda _: LOOKUP, FAILING_FLOW,
                     flags=re.S).replace("Create_Contact_Without_Last_Name", "Get_Contacts") \
    .replace("Fail Bookings", "Look Up").replace("<status>Active", "<status>Draft")


def test_a_flow_naming_a_field_the_object_lacks_fails_as_on_salesforce(live):
    """Salesforce: 'field integrity exception: unknown (The field "X" for the object "Y"
    doesn't exist.)' for the Flow component; nothing is deployed."""
    doc = deploy(live, {"flows/Look_Up.flow": LOOKUP_FLOW.format(
        field="Mood__c", record_field="Calendly__NoSuchField__c")})
    assert doc.findtext(".//m:status", namespaces=NS) == "Failed"
    [failure] = failures(doc)
    assert failure["componentType"] == "Flow" and failure["fullName"] == "Look_Up"
    assert ('field integrity exception: unknown (The field "Mood__c" for the object "Contact" '
            "doesn't exist.)") in failure["problem"]
    assert ('The field "Calendly__NoSuchField__c" for the object "Calendly__CalendlyAction__c" '
            "doesn't exist.") in failure["problem"]
    assert failure["lineNumber"]
    assert not [f for f in live.org.flows() if f["name"] == "Look_Up"]


@pytest.mark.parametrize("record_field, problem", [
    ("Owner.Name", None),  # a parent's field through the lookup: only OwnerId is checked
    ("Acme__r.Name", 'The field "Acme__c" for the object "Calendly__CalendlyAction__c"'),
])
def test_record_references_through_a_lookup_check_the_lookup_field(live, record_field, problem):
    doc = deploy(live, {"flows/Look_Up.flow": LOOKUP_FLOW.format(
        field="Email", record_field=record_field)})
    found = [f["problem"] for f in failures(doc)]
    assert (found == []) if problem is None else (problem in found[0]), found


def test_a_flow_may_use_a_field_its_own_deploy_adds(live):
    doc = deploy(live, {"flows/Look_Up.flow": LOOKUP_FLOW.format(
        field="Mood__c", record_field="Calendly__InviteeEmail__c"),
        "objects/Contact.object": MOOD_FIELD})
    assert doc.findtext(".//m:status", namespaces=NS) == "Succeeded", failures(doc)
    assert [f for f in live.org.flows() if f["name"] == "Look_Up"]
