"""ListViews on the local org: the listViews of a deployed CustomObject are kept as ListView
components (`Object.View`), listed, retrieved inside their object's file, read, and deleted by
destructiveChanges, as on Salesforce."""

import pytest
from cumulusci.salesforce_api import soap_envelopes

from localorg.calendly import local_org
from tests.test_server_deploy_options import destructive, run, text
from tests.test_server_metadata import NS, V, call, deploy, failures, retrieve

OBJECT = "Calendly__CalendlyAction__c"
VIEW = f"{OBJECT}.Recent_Bookings"
WITH_VIEW = """<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <listViews>
        <fullName>Recent_Bookings</fullName>
        <columns>NAME</columns>
        <filterScope>Everything</filterScope>
        <label>Recent Bookings</label>
    </listViews>
</CustomObject>
"""


@pytest.fixture
def live(serve_org):
    return serve_org(local_org())


def listed(live, kind):
    envelope = soap_envelopes.LIST_METADATA.format(metadata_type=kind, folder="",
                                                   as_of_version=V)
    _, doc = call(live, envelope)
    return [(r.findtext("m:fullName", namespaces=NS), r.findtext("m:fileName", namespaces=NS))
            for r in doc.findall(".//m:result", NS)]


def test_a_deployed_list_view_is_listed_retrieved_and_read(live):
    assert listed(live, "ListView") == []
    doc = deploy(live, {f"objects/{OBJECT}.object": WITH_VIEW})
    assert doc.findtext(".//m:status", namespaces=NS) == "Succeeded", failures(doc)
    assert listed(live, "ListView") == [(VIEW, f"objects/{OBJECT}.object")]

    archive, problems = retrieve(live, f"<types><members>{VIEW}</members><members>{OBJECT}.Nope"
                                       "</members><name>ListView</name></types>"
                                       "<version>63.0</version>")
    body = archive.read(f"unpackaged/objects/{OBJECT}.object").decode()
    assert body.count("<listViews>") == 1 and "<fullName>Recent_Bookings</fullName>" in body
    assert "<CustomObject" in body
    assert problems == [f"Entity of type 'ListView' named '{OBJECT}.Nope' cannot be found"]

    envelope = soap_envelopes.LIST_METADATA.split("<soap:Body>")[0] + (
        '<soap:Body><readMetadata xmlns="http://soap.sforce.com/2006/04/metadata">'
        f"<type>ListView</type><fullNames>{VIEW}</fullNames></readMetadata></soap:Body>"
        "</soap:Envelope>")
    _, doc = call(live, envelope)
    [record] = doc.findall(".//m:records", NS)
    assert record.findtext("m:fullName", namespaces=NS) == VIEW
    assert record.findtext("m:label", namespaces=NS) == "Recent Bookings"


def test_destructive_changes_delete_a_kept_list_view(live):
    deploy(live, {f"objects/{OBJECT}.object": WITH_VIEW})
    doc = run(live, destructive("ListView", VIEW), check_only=True)
    assert text(doc, "status") == "Succeeded"
    assert listed(live, "ListView") == [(VIEW, f"objects/{OBJECT}.object")]
    doc = run(live, destructive("ListView", VIEW))
    assert text(doc, "status") == "Succeeded"
    assert not doc.findall(".//m:componentFailures", NS)
    assert listed(live, "ListView") == []
    doc = run(live, destructive("ListView", VIEW))  # gone: now a warning
    [warning] = doc.findall(".//m:componentFailures", NS)
    assert warning.findtext("m:problemType", namespaces=NS) == "Warning"


def test_a_list_view_outside_the_schema_is_refused_and_nothing_kept(live):
    bad = WITH_VIEW.replace("<label>", "<colour>red</colour><label>")
    doc = deploy(live, {f"objects/{OBJECT}.object": bad})
    assert doc.findtext(".//m:status", namespaces=NS) == "Failed"
    assert failures(doc)[0]["componentType"] == "CustomObject"
    assert listed(live, "ListView") == []


def test_a_list_view_column_naming_a_missing_custom_field_is_refused(live):
    """Salesforce refuses it: "Could not resolve list view column: X"; a field the same file
    adds resolves."""
    missing = WITH_VIEW.replace("<columns>NAME</columns>",
                                "<columns>NAME</columns><columns>No_Such__c</columns>")
    doc = deploy(live, {f"objects/{OBJECT}.object": missing})
    assert doc.findtext(".//m:status", namespaces=NS) == "Failed"
    [failure] = failures(doc)
    assert failure["problem"] == "Could not resolve list view column: No_Such__c"
    assert failure["lineNumber"] == "5"
    assert listed(live, "ListView") == []
    adds = missing.replace("<listViews>", "<fields><fullName>No_Such__c</fullName><label>X"
                           "</label><length>10</length><type>Text</type></fields><listViews>")
    doc = deploy(live, {f"objects/{OBJECT}.object": adds})
    assert doc.findtext(".//m:status", namespaces=NS) == "Succeeded", failures(doc)
    assert listed(live, "ListView") == [(VIEW, f"objects/{OBJECT}.object")]
