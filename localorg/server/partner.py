"""The SOAP API (partner WSDL, `/services/Soap/u/<version>`): `convertLead` only.

Request and response as in the SOAP API Developer Guide, "convertLead()"
(https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_convertlead.htm)
and "LeadConvertResult": `<convertLead><leadConverts>…</leadConverts>…</convertLead>` answered
by `<convertLeadResponse><result>` per LeadConvert, in order. Every other operation, and the
enterprise WSDL (`/services/Soap/c/`), answer a NOT_IMPLEMENTED fault.
"""

from xml.sax.saxutils import escape

from lxml import etree
from werkzeug.wrappers import Response

from localorg.backend.convert import convert_leads
from localorg.errors import SalesforceError
from localorg.server.soap import SOAP_NS, XSI_NS, SoapFault, read_call, tag
from localorg.server.soap import fault as soap_fault

PARTNER_NS = "urn:partner.soap.sforce.com"
FAULT_NS = "urn:fault.partner.soap.sforce.com"
LEAD_CONVERT_KEYS = ("accountId", "contactId", "convertedStatus", "doNotCreateOpportunity",
                     "leadId", "opportunityId", "opportunityName", "overwriteLeadSource",
                     "ownerId", "sendNotificationEmail", "accountRecord", "contactRecord",
                     "opportunityRecord", "bypassAccountDedupeCheck",
                     "bypassContactDedupeCheck")


def fault(code: str, message: str) -> Response:
    """A partner API fault, with the UnexpectedErrorFault detail."""
    return soap_fault(code, message, FAULT_NS, detail=(
        '<detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        "</sf:UnexpectedErrorFault></detail>"))


def _result(result: dict) -> str:
    errors = "".join(
        "<errors>" + "".join(tag("fields", f) for f in e.get("fields") or [])
        + tag("message", e["message"]) + tag("statusCode", e["statusCode"]) + "</errors>"
        for e in result["errors"])
    return ("<result>" + tag("accountId", result["accountId"])
            + tag("contactId", result["contactId"]) + errors
            + tag("leadId", result["leadId"]) + tag("opportunityId", None)
            + tag("relatedPersonAccountId", None) + tag("success", result["success"])
            + "</result>")


def _lead_convert(el) -> dict:
    out = {}
    for child in el:
        name = etree.QName(child).localname
        if name not in LEAD_CONVERT_KEYS:
            raise SalesforceError("INVALID_FIELD", f"No such column '{name}' on LeadConvert")
        nil = child.get(f"{{{XSI_NS}}}nil") == "true"
        out[name] = None if nil or child.text is None else child.text.strip()
    return out


def soap(app, request, version):
    try:
        call = read_call(app, request, PARTNER_NS)
    except SoapFault as exc:
        return fault(exc.code, exc.message)
    name = etree.QName(call).localname
    if name != "convertLead":
        return fault("NOT_IMPLEMENTED",
                     f"The SOAP API operation {name} is not implemented by localorg "
                     "(only convertLead is)")
    try:
        converts = [_lead_convert(el) for el in call.findall(f"{{{PARTNER_NS}}}leadConverts")]
        with app.org.transaction() as txn:
            results = convert_leads(txn, converts)
    except SalesforceError as exc:
        return fault(exc.code, exc.message)
    answer = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns="{PARTNER_NS}" '
        f'xmlns:xsi="{XSI_NS}"><soapenv:Body><convertLeadResponse>'
        + "".join(_result(r) for r in results)
        + "</convertLeadResponse></soapenv:Body></soapenv:Envelope>")
    return Response(answer, content_type="text/xml; charset=utf-8")
