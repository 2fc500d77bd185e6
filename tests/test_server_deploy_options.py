"""Metadata API deploy options on the local org: checkOnly, testLevel, destructiveChanges."""

import pytest
from cumulusci.salesforce_api import soap_envelopes

from localorg.calendly import local_org
from tests.test_server_metadata import NS, PACKAGE, REJECT_FLOW, V, call, failures, make_zip, poll


@pytest.fixture
def live(serve_org):
    return serve_org(local_org())


DESTRUCTIVE = """<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types>{members}<name>{kind}</name></types>
    <version>63.0</version>
</Package>
"""


def run(live, files: dict, check_only=False, test_level="", run_tests="",
        ignore_warnings=True):
    envelope = soap_envelopes.DEPLOY.format(
        package_zip=make_zip(files, PACKAGE), check_only="true" if check_only else "false",
        purge_on_delete="false", api_version=V,
        test_level=f"<testLevel>{test_level}</testLevel>" if test_level else "",
        run_tests=f"<runTests>{run_tests}</runTests>" if run_tests else "")
    if not ignore_warnings:  # CumulusCI always sends true; sf's default is false
        envelope = envelope.replace("<ignoreWarnings>true</ignoreWarnings>",
                                    "<ignoreWarnings>false</ignoreWarnings>")
    _, doc = call(live, envelope)
    job = doc.findtext(".//m:id", namespaces=NS)
    for _ in range(5):
        doc = poll(live, job)
        if doc.findtext(".//m:done", namespaces=NS) == "true":
            return doc
    raise AssertionError("deploy not done")


def text(doc, name):
    return doc.findtext(f".//m:result/m:{name}", namespaces=NS)


def names(doc, kind):
    return sorted(c.findtext("m:fullName", namespaces=NS) for c in doc.findall(f".//m:{kind}", NS))


FLOW = {"flows/Reject_Bookings.flow": REJECT_FLOW.format(status="Draft")}


def test_check_only_deploy_reports_components_and_writes_nothing(live):
    doc = run(live, FLOW, check_only=True)
    assert (text(doc, "status"), text(doc, "checkOnly")) == ("Succeeded", "true")
    assert "Reject_Bookings" in names(doc, "componentSuccesses")
    assert not [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]


def test_a_test_level_that_runs_apex_fails_plainly_never_a_fake_pass(live):
    doc = run(live, FLOW, check_only=True, test_level="RunSpecifiedTests",
              run_tests="CalendlyScenariosTest")
    assert (text(doc, "status"), text(doc, "success")) == ("Failed", "false")
    assert text(doc, "errorStatusCode") == "NOT_IMPLEMENTED"
    assert "testLevel RunSpecifiedTests runs Apex tests" in text(doc, "errorMessage")
    assert text(doc, "numberTestsCompleted") == "0"
    # not applied even without checkOnly
    doc = run(live, FLOW, test_level="RunLocalTests")
    assert text(doc, "status") == "Failed"
    assert not [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]


def test_no_test_run_deploys(live):
    doc = run(live, FLOW, test_level="NoTestRun")
    assert text(doc, "status") == "Succeeded"
    assert [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]


def destructive(kind, *members):
    body = "".join(f"<members>{m}</members>" for m in members)
    return {"destructiveChanges.xml": DESTRUCTIVE.format(members=body, kind=kind)}


def test_destructive_changes_delete_an_inactive_flow_and_warn_on_a_missing_one(live):
    live.org.deploy_flow("Reject_Bookings", REJECT_FLOW.format(status="Draft"))
    live.org.deploy_flow("Reject_Bookings", REJECT_FLOW.format(status="Draft"))
    doc = run(live, destructive("Flow", "Reject_Bookings", "Never_Was"))
    assert text(doc, "status") == "Succeeded"
    [deleted] = [c for c in doc.findall(".//m:componentSuccesses", NS)
                 if c.findtext("m:fullName", namespaces=NS) == "Reject_Bookings"]
    assert deleted.findtext("m:deleted", namespaces=NS) == "true"
    [warning] = doc.findall(".//m:componentFailures", NS)
    assert warning.findtext("m:problemType", namespaces=NS) == "Warning"
    assert warning.findtext("m:problem", namespaces=NS) == "No Flow named: Never_Was found"
    assert not [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]


def test_destructive_changes_refuse_an_active_flow_and_other_types(live):
    live.org.deploy_flow("Reject_Bookings", REJECT_FLOW.format(status="Active"))
    doc = run(live, destructive("Flow", "Reject_Bookings"))
    assert text(doc, "status") == "Failed"
    [failure] = failures(doc)
    assert "Cannot delete flow Reject_Bookings: version 1 is active" in failure["problem"]
    assert [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]
    doc = run(live, destructive("CustomField", "Event.Calendly__InviteeUuid__c"))
    assert text(doc, "status") == "Failed"
    assert failures(doc)[0]["problem"] == ("Cannot delete Event.Calendly__InviteeUuid__c: it "
                                           "belongs to a managed package.")
    doc = run(live, destructive("ApexClass", "CalendlyScenariosTest"))
    assert "Deleting ApexClass components" in failures(doc)[0]["problem"]


def test_check_only_destructive_changes_delete_nothing(live):
    live.org.deploy_flow("Reject_Bookings", REJECT_FLOW.format(status="Draft"))
    doc = run(live, destructive("Flow", "Reject_Bookings"), check_only=True)
    assert text(doc, "status") == "Succeeded"
    assert [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]


def test_destructive_changes_delete_the_orgs_own_custom_field(live):
    from localorg.schema import field_from_xml

    field = field_from_xml(b"""<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
        <fullName>Sync_Status__c</fullName><label>Sync Status</label><length>40</length>
        <type>Text</type></CustomField>""")
    live.org.add_custom_field("Calendly__CalendlyAction__c", field)
    doc = run(live, destructive("CustomField", "Calendly__CalendlyAction__c.Sync_Status__c"))
    assert text(doc, "status") == "Succeeded"
    assert not live.org.describe("Calendly__CalendlyAction__c").has("Sync_Status__c")
    doc = run(live, {**destructive("ListView", "Calendly__CalendlyAction__c.Problems")})
    assert text(doc, "status") == "Succeeded"
    [warning] = doc.findall(".//m:componentFailures", NS)
    assert warning.findtext("m:problem", namespaces=NS) == (
        "No ListView named: Calendly__CalendlyAction__c.Problems found")


def test_without_ignore_warnings_a_warning_fails_the_deploy_and_applies_nothing(live):
    """DeployOptions ignoreWarnings false (Salesforce's default): a destructive member the org
    does not have fails the whole deploy; the other components are not applied."""
    files = {**FLOW, **destructive("Flow", "No_Such_Flow")}
    doc = run(live, files, ignore_warnings=False)
    assert (text(doc, "status"), text(doc, "success")) == ("Failed", "false")
    assert text(doc, "ignoreWarnings") == "false"
    assert text(doc, "numberComponentErrors") == "1"
    [warning] = doc.findall(".//m:componentFailures", NS)
    assert warning.findtext("m:problemType", namespaces=NS) == "Warning"
    assert not [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]
    doc = run(live, files)  # ignoreWarnings true: the same deploy succeeds
    assert (text(doc, "status"), text(doc, "ignoreWarnings")) == ("Succeeded", "true")
    assert [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]


def test_a_field_a_flow_version_references_cannot_be_deleted(live):
    """Salesforce refuses it: "This custom field is referenced elsewhere in salesforce.com. :
    Flow - <name>", for any version, active or not; deleting the flow in the same deploy
    (destructiveChangesPre) lets the field go."""
    from localorg.schema import field_from_xml

    live.org.add_custom_field("Calendly__CalendlyAction__c", field_from_xml(
        b"""<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
        <fullName>Sync_Status__c</fullName><label>Sync Status</label><length>40</length>
        <type>Text</type></CustomField>"""))
    filtered = REJECT_FLOW.format(status="Draft").replace(
        "</connector>", "</connector><filterLogic>and</filterLogic><filters><field>"
        "Sync_Status__c</field><operator>EqualTo</operator><value><stringValue>Failed"
        "</stringValue></value></filters>")
    live.org.deploy_flow("Reject_Bookings", filtered)
    live.org.deploy_flow("Reject_Bookings", REJECT_FLOW.format(status="Draft"))  # v2: no use
    field = "Calendly__CalendlyAction__c.Sync_Status__c"
    doc = run(live, destructive("CustomField", field))
    assert text(doc, "status") == "Failed"
    assert failures(doc)[0]["problem"] == ("This custom field is referenced elsewhere in "
                                           "salesforce.com. : Flow - Reject_Bookings")
    assert live.org.describe("Calendly__CalendlyAction__c").has("Sync_Status__c")
    live.org.deploy_flow("Calendly__Reject_Bookings", filtered)  # the package stand-in's
    pre = destructive("Flow", "Reject_Bookings")["destructiveChanges.xml"]
    doc = run(live, {"destructiveChangesPre.xml": pre, **destructive("CustomField", field)})
    assert text(doc, "status") == "Succeeded"
    assert not live.org.describe("Calendly__CalendlyAction__c").has("Sync_Status__c")


PERMISSION_SET = """<?xml version="1.0" encoding="UTF-8"?>
<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">
    <fieldPermissions>
        <editable>true</editable>
        <field>{field}</field>
        <readable>true</readable>
    </fieldPermissions>
    <label>Booking Sync</label>
</PermissionSet>
"""


def test_field_permissions_must_name_fields_the_org_has(live):
    """Salesforce refuses a permission set granting a field the org lacks: "In field: field -
    no CustomField named X found"; a field the same deploy adds is known."""
    path = "permissionsets/Booking_Sync.permissionset"
    doc = run(live, {path: PERMISSION_SET.format(field="Contact.No_Such__c")})
    assert text(doc, "status") == "Failed"
    [failure] = failures(doc)
    assert failure["problem"] == "In field: field - no CustomField named Contact.No_Such__c found"
    assert failure["lineNumber"] == "5"
    assert live.org.component("PermissionSet", "Booking_Sync") is None
    assert text(run(live, {path: PERMISSION_SET.format(field="Contact.Email")}),
                "status") == "Succeeded"
    adds = ('<?xml version="1.0" encoding="UTF-8"?><CustomObject xmlns="http://soap.sforce.com'
            '/2006/04/metadata"><fields><fullName>Mood__c</fullName><label>Mood</label><length>'
            "40</length><type>Text</type></fields></CustomObject>")
    doc = run(live, {path: PERMISSION_SET.format(field="Contact.Mood__c"),
                     "objects/Contact.object": adds})
    assert text(doc, "status") == "Succeeded", failures(doc)


def test_a_layout_item_naming_a_missing_custom_field_is_refused(live):
    from tests.test_server_metadata import LAYOUT

    path = "layouts/Event-Event Layout.layout"
    doc = run(live, {path: LAYOUT.replace("<field>Subject</field>", "<field>No_Such__c</field>")})
    assert text(doc, "status") == "Failed"
    assert failures(doc)[0]["problem"] == (
        "In field: field - no CustomField named Event.No_Such__c found")
    doc = run(live, {path: LAYOUT.replace("<field>Subject</field>",
                                          "<field>Calendly__InviteeUuid__c</field>")})
    assert text(doc, "status") == "Succeeded", failures(doc)
