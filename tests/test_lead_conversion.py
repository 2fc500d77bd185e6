"""Leads become converted only through convertLead (SOAP API, partner WSDL), never by writing
IsConverted or the Converted* fields; a converted Lead cannot be updated."""

import pytest
import requests
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest

from localorg.lead_conversion import ConversionError, convert_lead

V = "63.0"


def soap(fresh_live, body: str, session=None):
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com"><soapenv:Header><urn:SessionHeader>'
        f"<urn:sessionId>{session or fresh_live.token}</urn:sessionId></urn:SessionHeader>"
        f"</soapenv:Header><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>")
    return requests.post(f"{fresh_live.url}/services/Soap/u/{V}", data=envelope,
                         headers={"Content-Type": "text/xml", "SOAPAction": "x"})


def test_convert_lead_over_soap(fresh_live, fresh_sf):
    lead_id = fresh_sf.Lead.create({"FirstName": "Lee", "LastName": "Li", "Company": "Acme",
                              "Email": "lee@acme.test", "Phone": "123"})["id"]
    response = soap(fresh_live, (
        "<urn:convertLead><urn:leadConverts><urn:convertedStatus>Closed - Converted"
        "</urn:convertedStatus><urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity>"
        f"<urn:leadId>{lead_id}</urn:leadId></urn:leadConverts></urn:convertLead>"))
    assert response.status_code == 200, response.text
    assert "<convertLeadResponse><result>" in response.text
    assert "<success>true</success>" in response.text
    lead = fresh_sf.Lead.get(lead_id)
    assert lead["IsConverted"] is True and lead["Status"] == "Closed - Converted"
    assert lead["ConvertedDate"] is not None
    contact = fresh_sf.Contact.get(lead["ConvertedContactId"])
    assert (contact["FirstName"], contact["LastName"], contact["Email"], contact["Phone"]) == (
        "Lee", "Li", "lee@acme.test", "123")
    assert contact["AccountId"] == lead["ConvertedAccountId"]
    assert fresh_sf.Account.get(lead["ConvertedAccountId"])["Name"] == "Acme"
    with pytest.raises(SalesforceMalformedRequest) as exc:  # frozen once converted
        fresh_sf.Lead.update(lead_id, {"Title": "CEO"})
    assert exc.value.content[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    again = soap(fresh_live, (
        "<urn:convertLead><urn:leadConverts><urn:convertedStatus>Closed - Converted"
        "</urn:convertedStatus><urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity>"
        f"<urn:leadId>{lead_id}</urn:leadId></urn:leadConverts></urn:convertLead>"))
    assert "<success>false</success>" in again.text
    assert "<statusCode>CANNOT_UPDATE_CONVERTED_LEAD</statusCode>" in again.text


def test_convert_into_an_existing_contact_fills_only_its_empty_fields(fresh_sf):
    account_id = fresh_sf.Account.create({"Name": "NewCo"})["id"]
    contact_id = fresh_sf.Contact.create({"LastName": "Moved", "Email": "uma@newco.test",
                                    "AccountId": account_id})["id"]
    lead_id = fresh_sf.Lead.create({"FirstName": "Uma", "LastName": "Moved", "Company": "Gone Co",
                              "Email": "uma@gone.test", "Title": "CTO"})["id"]
    result = convert_lead(fresh_sf, lead_id, contact_id, account_id)
    assert (result["success"], result["contactId"], result["accountId"]) == (
        "true", contact_id, account_id)
    contact = fresh_sf.Contact.get(contact_id)
    assert contact["Email"] == "uma@newco.test"  # kept
    assert (contact["FirstName"], contact["Title"]) == ("Uma", "CTO")  # were empty
    assert fresh_sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1
    assert fresh_sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1


def test_convert_lead_refusals(fresh_live, fresh_sf):
    lead_id = fresh_sf.Lead.create({"LastName": "Li", "Company": "Acme"})["id"]
    other = fresh_sf.Account.create({"Name": "Other"})["id"]
    contact_id = fresh_sf.Contact.create({"LastName": "C"})["id"]
    with pytest.raises(ConversionError, match="INVALID_CROSS_REFERENCE_KEY"):
        convert_lead(fresh_sf, lead_id, contact_id, other)  # the Contact is not of that Account
    status = soap(fresh_live, (
        "<urn:convertLead><urn:leadConverts><urn:convertedStatus>Open - Not Contacted"
        "</urn:convertedStatus><urn:doNotCreateOpportunity>true</urn:doNotCreateOpportunity>"
        f"<urn:leadId>{lead_id}</urn:leadId></urn:leadConverts></urn:convertLead>"))
    assert "<statusCode>INVALID_STATUS</statusCode>" in status.text
    opportunity = soap(fresh_live, (
        "<urn:convertLead><urn:leadConverts><urn:convertedStatus>Closed - Converted"
        f"</urn:convertedStatus><urn:leadId>{lead_id}</urn:leadId></urn:leadConverts>"
        "</urn:convertLead>"))
    assert "<statusCode>NOT_IMPLEMENTED</statusCode>" in opportunity.text
    assert fresh_sf.Lead.get(lead_id)["IsConverted"] is False  # each refusal changed nothing
    assert fresh_sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1
    bad_session = soap(fresh_live, "<urn:convertLead/>", session="nope")
    assert bad_session.status_code == 500
    assert "<faultcode>sf:INVALID_SESSION_ID</faultcode>" in bad_session.text
    other_call = soap(fresh_live, "<urn:create/>")
    assert "<faultcode>sf:NOT_IMPLEMENTED</faultcode>" in other_call.text


def test_a_converted_lead_cannot_be_inserted_or_written_by_field(fresh_sf):
    with pytest.raises(SalesforceGeneralError) as exc:  # 501: the migration path
        fresh_sf.Lead.create({"LastName": "Li", "Company": "Acme", "IsConverted": True})
    assert exc.value.status == 501
    assert exc.value.content[0]["errorCode"] == "NOT_IMPLEMENTED"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        fresh_sf.Lead.create({"LastName": "Li", "Company": "Acme", "ConvertedDate": "2026-01-01"})
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert fresh_sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0
