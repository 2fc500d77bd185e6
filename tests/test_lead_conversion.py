"""Leads become converted only through convertLead (SOAP API, partner WSDL), never by writing
IsConverted or the Converted* fields; a converted Lead cannot be updated."""

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest

from localorg.backend import Org
from localorg.lead_conversion import ConversionError, convert_lead
from localorg.server.inprocess import running_server

V = "63.0"


@pytest.fixture
def live(tmp_path, monkeypatch):
    org = Org(":memory:")
    with running_server(org, tmp_path) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.bundle))
        server.org = org
        yield server


@pytest.fixture
def sf(live):
    return Salesforce(instance=f"127.0.0.1:{live.port}", session_id=live.token, version=V)


def soap(live, body: str, session=None):
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Header><urn:SessionHeader>'
        f"<urn:sessionId>{session or live.token}</urn:sessionId></urn:SessionHeader>"
        f"</soapenv:Header><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>")
    return requests.post(f"{live.url}/services/Soap/u/{V}", data=envelope,
                         headers={"Content-Type": "text/xml", "SOAPAction": "x"})


def test_convert_lead_over_soap(live, sf):
    lead_id = sf.Lead.create({"FirstName": "Lee", "LastName": "Li", "Company": "Acme",
                              "Email": "lee@acme.test", "Phone": "123"})["id"]
    response = soap(live, (
        "<urn:convertLead><urn:leadConverts><urn:convertedStatus>Closed - Converted"
        "</urn:convertedStatus><urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity>"
        f"<urn:leadId>{lead_id}</urn:leadId></urn:leadConverts></urn:convertLead>"))
    assert response.status_code == 200, response.text
    assert "<convertLeadResponse><result>" in response.text
    assert "<success>true</success>" in response.text
    lead = sf.Lead.get(lead_id)
    assert lead["IsConverted"] is True and lead["Status"] == "Closed - Converted"
    assert lead["ConvertedDate"] is not None
    contact = sf.Contact.get(lead["ConvertedContactId"])
    assert (contact["FirstName"], contact["LastName"], contact["Email"], contact["Phone"]) == (
        "Lee", "Li", "lee@acme.test", "123")
    assert contact["AccountId"] == lead["ConvertedAccountId"]
    assert sf.Account.get(lead["ConvertedAccountId"])["Name"] == "Acme"
    with pytest.raises(SalesforceMalformedRequest) as exc:  # frozen once converted
        sf.Lead.update(lead_id, {"Title": "CEO"})
    assert exc.value.content[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    again = soap(live, (
        "<urn:convertLead><urn:leadConverts><urn:convertedStatus>Closed - Converted"
        "</urn:convertedStatus><urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity>"
        f"<urn:leadId>{lead_id}</urn:leadId></urn:leadConverts></urn:convertLead>"))
    assert "<success>false</success>" in again.text
    assert "<statusCode>CANNOT_UPDATE_CONVERTED_LEAD</statusCode>" in again.text


def test_convert_into_an_existing_contact_fills_only_its_empty_fields(sf):
    account_id = sf.Account.create({"Name": "NewCo"})["id"]
    contact_id = sf.Contact.create({"LastName": "Moved", "Email": "uma@newco.test",
                                    "AccountId": account_id})["id"]
    lead_id = sf.Lead.create({"FirstName": "Uma", "LastName": "Moved", "Company": "Gone Co",
                              "Email": "uma@gone.test", "Title": "CTO"})["id"]
    result = convert_lead(sf, lead_id, contact_id, account_id)
    assert (result["success"], result["contactId"], result["accountId"]) == (
        "true", contact_id, account_id)
    contact = sf.Contact.get(contact_id)
    assert contact["Email"] == "uma@newco.test"  # kept
    assert (contact["FirstName"], contact["Title"]) == ("Uma", "CTO")  # were empty
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1


def test_convert_lead_refusals(live, sf):
    lead_id = sf.Lead.create({"LastName": "Li", "Company": "Acme"})["id"]
    other = sf.Account.create({"Name": "Other"})["id"]
    contact_id = sf.Contact.create({"LastName": "C"})["id"]
    with pytest.raises(ConversionError, match="INVALID_CROSS_REFERENCE_KEY"):
        convert_lead(sf, lead_id, contact_id, other)  # the Contact is not of that Account
    status = soap(live, (
        "<urn:convertLead><urn:leadConverts><urn:convertedStatus>Open - Not Contacted"
        "</urn:convertedStatus><urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity>"
        f"<urn:leadId>{lead_id}</urn:leadId></urn:leadConverts></urn:convertLead>"))
    assert "<statusCode>INVALID_STATUS</statusCode>" in status.text
    opportunity = soap(live, (
        "<urn:convertLead><urn:leadConverts><urn:convertedStatus>Closed - Converted"
        f"</urn:convertedStatus><urn:leadId>{lead_id}</urn:leadId></urn:leadConverts>"
        "</urn:convertLead>"))
    assert "<statusCode>NOT_IMPLEMENTED</statusCode>" in opportunity.text
    assert sf.Lead.get(lead_id)["IsConverted"] is False  # each refusal changed nothing
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1
    bad_session = soap(live, "<urn:convertLead/>", session="nope")
    assert bad_session.status_code == 500
    assert "<faultcode>sf:INVALID_SESSION_ID</faultcode>" in bad_session.text
    other_call = soap(live, "<urn:create/>")
    assert "<faultcode>sf:NOT_IMPLEMENTED</faultcode>" in other_call.text


def test_a_converted_lead_cannot_be_inserted_or_written_by_field(sf):
    with pytest.raises(SalesforceGeneralError) as exc:  # 501: the migration path
        sf.Lead.create({"LastName": "Li", "Company": "Acme", "IsConverted": True})
    assert exc.value.status == 501
    assert exc.value.content[0]["errorCode"] == "NOT_IMPLEMENTED"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create({"LastName": "Li", "Company": "Acme", "ConvertedDate": "2026-01-01"})
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0
