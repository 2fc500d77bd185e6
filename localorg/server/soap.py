"""What the local org's SOAP endpoints share: reading the envelope, its session and its call."""

from xml.sax.saxutils import escape

from lxml import etree
from werkzeug.wrappers import Response

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


class SoapFault(Exception):
    """A request the endpoint answers with a SOAP fault of this code and message."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def read_call(app, request, ns: str):
    """The Body's operation element; SoapFault when the XML, the session (SessionHeader in the
    API's namespace `ns`) or the operation is missing or wrong."""
    try:
        doc = etree.fromstring(request.get_data(), etree.XMLParser(resolve_entities=False,
                                                                  no_network=True))
    except etree.XMLSyntaxError as exc:
        raise SoapFault("INVALID_XML", f"The SOAP request is not well-formed XML: {exc}") from None
    session = doc.find(f".//{{{ns}}}SessionHeader/{{{ns}}}sessionId")
    if session is None or not app.valid_token((session.text or "").strip()):
        raise SoapFault("INVALID_SESSION_ID",
                        "Invalid Session ID found in SessionHeader: Illegal Session")
    body = doc.find(f"{{{SOAP_NS}}}Body")
    call = body[0] if body is not None and len(body) else None
    if call is None or etree.QName(call).namespace != ns:
        raise SoapFault("INVALID_SOAP_REQUEST", f"The SOAP Body names no operation of {ns}")
    return call


def tag(name: str, value) -> str:
    """One element: null as xsi:nil, booleans as true/false, text escaped."""
    if value is None:
        return f'<{name} xsi:nil="true"/>'
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(str(value))}</{name}>"


def fault(code: str, message: str, ns: str, detail: str = "") -> Response:
    """A SOAP fault: HTTP 500, faultcode sf:<CODE> (`sf` bound to the API's fault namespace
    `ns`), faultstring "<CODE>: <message>", then `detail` (XML) if the API sends one."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:sf="{ns}" xmlns:xsi="{XSI_NS}">'
        f"<soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode>"
        f"<faultstring>{escape(f'{code}: {message}')}</faultstring>{detail}"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status=500, content_type="text/xml; charset=utf-8")
