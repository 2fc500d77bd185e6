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

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
PARTNER_NS = "urn:partner.soap.sforce.com"
FAULT_NS = "urn:fault.partner.soap.sforce.com"
LEAD_CONVERT_KEYS = ("accountId", "contactId", "convertedStatus", "doNotCreateOpportunity",
                     "leadId", "opportunityId", "opportunityName", "overwriteLeadSource",
                     "ownerId", "sendNotificationEmail", "accountRecord", "contactRecord",
                     "opportunityRecord", "bypassAccountDedupeCheck",
                     "bypassContactDedupeCheck")


def fault(code: str, message: str) -> Response:
    """A partner API fault: HTTP 500, sf:<CODE>, with the UnexpectedErrorFault detail."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:sf="{FAULT_NS}" '
        f'xmlns:xsi="{XSI_NS}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{code}</faultcode><faultstring>{escape(f'{code}: {message}')}"
        '</faultstring><detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        "</sf:UnexpectedErrorFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status=500, content_type="text/xml; charset=utf-8")


def _tag(name: str, value) -> str:
    if value is None:
        return f'<{name} xsi:nil="true"/>'
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(str(value))}</{name}>"


def _result(result: dict) -> str:
    errors = "".join(
        "<errors>" + "".join(_tag("fields", f) for f in e.get("fields") or [])
        + _tag("message", e["message"]) + _tag("statusCode", e["statusCode"]) + "</errors>"
        for e in result["errors"])
    return ("<result>" + _tag("accountId", result["accountId"])
            + _tag("contactId", result["contactId"]) + errors
            + _tag("leadId", result["leadId"]) + _tag("opportunityId", None)
            + _tag("relatedPersonAccountId", None) + _tag("success", result["success"])
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
        doc = etree.fromstring(request.get_data(), etree.XMLParser(resolve_entities=False,
                                                                  no_network=True))
    except etree.XMLSyntaxError as exc:
        return fault("INVALID_XML", f"The SOAP request is not well-formed XML: {exc}")
    session = doc.find(f".//{{{PARTNER_NS}}}SessionHeader/{{{PARTNER_NS}}}sessionId")
    if session is None or not app.valid_token((session.text or "").strip()):
        return fault("INVALID_SESSION_ID",
                     "Invalid Session ID found in SessionHeader: Illegal Session")
    body = doc.find(f"{{{SOAP_NS}}}Body")
    call = body[0] if body is not None and len(body) else None
    if call is None or etree.QName(call).namespace != PARTNER_NS:
        return fault("INVALID_SOAP_REQUEST",
                     f"The SOAP Body names no operation of the partner API ({PARTNER_NS})")
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
