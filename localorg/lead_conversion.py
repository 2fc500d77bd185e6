"""Convert Leads on an org through the SOAP API's convertLead (partner WSDL), as a client.

simple-salesforce has no convertLead (simple-salesforce/simple-salesforce#637), so this posts the
call's envelope (SOAP API Developer Guide, "convertLead()") with the session of a
simple-salesforce connection, and reads the LeadConvertResult back. Used by `make demo` for the
Leads listed in datasets/local/local.conversions.yml.
"""

from xml.sax.saxutils import escape

import yaml
from lxml import etree

PARTNER_NS = "urn:partner.soap.sforce.com"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
CONVERTED_STATUS = "Closed - Converted"


class ConversionError(Exception):
    """convertLead refused a Lead, or the list of Leads to convert is unusable."""


def convert_lead(sf, lead_id: str, contact_id: str, account_id: str) -> dict:
    """convertLead of one Lead into an existing Contact of its Account; no Opportunity."""
    fields = {"accountId": account_id, "contactId": contact_id,
              "convertedStatus": CONVERTED_STATUS, "doNotCreateOpportunity": "true",
              "leadId": lead_id, "overwriteLeadSource": "false",
              "sendNotificationEmail": "false"}
    body = "".join(f"<urn:{k}>{escape(v)}</urn:{k}>" for k, v in fields.items())
    envelope = (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:urn="{PARTNER_NS}">'
        f"<soapenv:Header><urn:SessionHeader><urn:sessionId>{escape(sf.session_id)}"
        "</urn:sessionId></urn:SessionHeader></soapenv:Header><soapenv:Body><urn:convertLead>"
        f"<urn:leadConverts>{body}</urn:leadConverts></urn:convertLead></soapenv:Body>"
        "</soapenv:Envelope>")
    url = f"{sf.base_url.split('/services/')[0]}/services/Soap/u/{sf.sf_version}"
    response = sf.session.post(url, data=envelope.encode(), headers={
        "Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "convertLead"})
    doc = etree.fromstring(response.content)
    fault = doc.find(f".//{{{SOAP_NS}}}Fault")
    if fault is not None:
        raise ConversionError(f"convertLead of {lead_id}: {fault.findtext('faultstring')}")
    result = doc.find(f".//{{{PARTNER_NS}}}result")
    if result.findtext(f"{{{PARTNER_NS}}}success") != "true":
        error = result.find(f"{{{PARTNER_NS}}}errors")
        raise ConversionError(
            f"convertLead of {lead_id}: {error.findtext(f'{{{PARTNER_NS}}}statusCode')}: "
            f"{error.findtext(f'{{{PARTNER_NS}}}message')}")
    return {child.tag.split("}")[1]: child.text for child in result}


def _one(sf, sobject: str, email: str, fields: str) -> dict:
    records = sf.query(f"SELECT {fields} FROM {sobject} WHERE Email = '{email}'")["records"]
    if len(records) != 1:
        raise ConversionError(f"{len(records)} {sobject} records have the email {email}; "
                              "exactly one must")
    return records[0]


def convert_listed(sf, path) -> list:
    """Convert each {lead: email, contact: email} of the YAML file; skips converted Leads."""
    done = []
    for entry in yaml.safe_load(open(path)) or []:
        lead = _one(sf, "Lead", entry["lead"], "Id, IsConverted")
        if lead["IsConverted"]:
            continue
        contact = _one(sf, "Contact", entry["contact"], "Id, AccountId")
        done.append(convert_lead(sf, lead["Id"], contact["Id"], contact["AccountId"]))
    return done
