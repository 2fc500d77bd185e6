"""Metadata API (SOAP, /services/Soap/m/XX.X) of the local org.

Operations, with the request and result shapes of the Metadata API Developer Guide
(atlas.en-us.api_meta.meta: meta_deploy.htm, meta_checkdeploystatus.htm + meta_deployresult.htm,
meta_retrieve.htm, meta_checkretrievestatus.htm + meta_retrieveresult.htm, meta_listmetadata.htm,
meta_readmetadata.htm, meta_canceldeploy.htm) and the envelopes CumulusCI sends
(cumulusci/salesforce_api/soap_envelopes.py):

- deploy / checkDeployStatus / cancelDeploy: `localorg.backend.deploy` checks and applies;
  this module parses the envelopes and writes the AsyncResult and DeployResult.
- retrieve (unpackaged package.xml, or packageNames of an unmanaged package) / checkStatus /
  checkRetrieveStatus: `localorg.backend.retrieve` builds the zip of the stored source
  (`unpackaged/package.xml`, `unpackaged/flows/X.flow`, ...), with a message per member that
  does not exist.
- listMetadata, readMetadata, cancelDeploy. Other operations answer a SOAP fault NOT_IMPLEMENTED.

A new org has what every Salesforce org starts with that these callers read: Salesforce's stock
Event page layout ("Event-Event Layout", in `stock/`, without the Attendees field; where it comes
from: docs/research.md, "Stock Event layout").

Profiles and permission sets are stored and returned, not enforced: the local org runs every
call as its System Administrator. A never-deployed `Admin` profile is retrieved as an empty Profile.
"""

import base64
from copy import deepcopy
from pathlib import Path

from lxml import etree
from werkzeug.wrappers import Response

from localorg.backend import retrieve as retrieving
from localorg.backend.deploy import Component, Deploy
from localorg.backend.jobs import DEPLOY_PREFIX, RETRIEVE_PREFIX, now
from localorg.backend.metadata_types import RETRIEVABLE, file_name, md
from localorg.backend.retrieve import Retrieve
from localorg.errors import SalesforceError
from localorg.schema import MD_NS
from localorg.server.soap import SOAP_NS, XSI_NS, SoapFault, read_call, tag
from localorg.server.soap import fault as soap_fault

STOCK = Path(__file__).with_name("stock")


def seed_stock(org) -> None:
    """Give an org without layouts the stock layouts every Salesforce org has."""
    if org.components("Layout"):
        return
    for path in sorted(STOCK.glob("*.layout")):
        org.save_component("Layout", path.stem, f"layouts/{path.name}", path.read_bytes())


# ----- SOAP plumbing ------------------------------------------------------------------------


def envelope(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns="{MD_NS}" xmlns:xsi="{XSI_NS}">'
        f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )


def fault(code: str, message: str) -> Response:
    """A SOAP fault as the Metadata API sends it: HTTP 500, faultcode sf:<CODE>."""
    return soap_fault(code, message, MD_NS)


def ok(body: str) -> Response:
    return Response(envelope(body), content_type="text/xml; charset=utf-8")


def soap(app, request, version, org_id=None):
    try:
        call = read_call(app, request, MD_NS)
    except SoapFault as exc:
        return fault(exc.code, exc.message)
    name = etree.QName(call).localname
    handler = OPERATIONS.get(name)
    if handler is None:
        return fault("NOT_IMPLEMENTED",
                     f"The Metadata API operation {name} is not implemented by localorg")
    try:
        return ok(handler(app, call, version))
    except SalesforceError as exc:
        return fault(exc.code, exc.message)


# ----- deploy -------------------------------------------------------------------------------


def deploy(app, call, version):
    options = call.find(f"{{{MD_NS}}}DeployOptions")
    check_only = options is not None and md(options, "checkOnly") == "true"
    test_level = md(options, "testLevel") if options is not None else None
    ignore_warnings = options is not None and md(options, "ignoreWarnings") == "true"
    job = Deploy(app.jobs.new_id(DEPLOY_PREFIX), md(call, "ZipFile"), check_only, test_level,
                 ignore_warnings)
    app.jobs.put(job.id, job)
    return (f"<deployResponse><result>{tag('done', False)}{tag('id', job.id)}"
            f"{tag('state', 'Queued')}</result></deployResponse>")


def component_xml(comp: Component, success: bool) -> str:
    out = [tag("changed", success), tag("componentType", comp.kind),
           tag("created", success and comp.created), tag("createdDate", now()),
           tag("deleted", success and comp.deleted), tag("fileName", comp.file_name),
           tag("fullName", comp.full_name)]
    if not success and not comp.problems:  # a warning (fails the deploy without ignoreWarnings)
        out += [tag("problem", comp.warning), tag("problemType", "Warning")]
    elif not success:
        problem, kind, line = comp.problems[0]
        if line:
            out.append(tag("lineNumber", line))
        out += [tag("problem", "; ".join(p[0] for p in comp.problems)), tag("problemType", kind)]
    out.append(tag("success", success))
    name = "componentSuccesses" if success else "componentFailures"
    return f"<{name}>{''.join(out)}</{name}>"


def deploy_job(app, job_id: str) -> Deploy:
    job = app.jobs.get(job_id)
    if not isinstance(job, Deploy):
        raise SalesforceError("INVALID_ID_FIELD", f"Invalid deploy id: {job_id}")
    return job


def deploy_details(job: Deploy) -> str:
    """Component results once the deploy is done (none while it is Pending or InProgress)."""
    if not job.done:
        return ""
    failures = job.failures
    details = "".join(component_xml(c, False) for c in failures)
    details += "".join(component_xml(c, False) for c in job.comps if c.warning)
    if job.success:
        details += "".join(component_xml(c, True) for c in job.comps
                           if not c.problems and not c.warning)
        details += ("<componentSuccesses>" + tag("changed", True) + tag("componentType", "")
                    + tag("created", False) + tag("deleted", False)
                    + tag("fileName", "package.xml") + tag("fullName", "package.xml")
                    + tag("success", True) + "</componentSuccesses>")
    return details + ("<runTestResult><numFailures>0</numFailures><numTestsRun>0</numTestsRun>"
                      "<totalTime>0.0</totalTime></runTestResult>")


def check_deploy_status(app, call, version):
    job = deploy_job(app, md(call, "asyncProcessId") or "")
    job.poll(app.org)
    failures = job.failures
    body = [tag("checkOnly", job.check_only), tag("completedDate", job.completed),
            tag("createdBy", app.org.default_user_id), tag("createdByName", "Local Admin"),
            tag("createdDate", job.created), f"<details>{deploy_details(job)}</details>",
            tag("done", job.done)]
    if job.error:
        body += [tag("errorMessage", job.error),
                 tag("errorStatusCode", job.error_code or "UNKNOWN_EXCEPTION")]
    body += [tag("id", job.id), tag("ignoreWarnings", job.ignore_warnings),
             tag("lastModifiedDate", job.completed or job.started or job.created),
             tag("numberComponentErrors", len(failures) + len(job.blocking_warnings)),
             tag("numberComponentsDeployed", 0 if not job.success else len(job.comps)),
             tag("numberComponentsTotal", len(job.comps)), tag("numberTestErrors", 0),
             tag("numberTestsCompleted", 0), tag("numberTestsTotal", 0),
             tag("rollbackOnError", True), tag("runTestsEnabled", False),
             tag("startDate", job.started), tag("status", job.status),
             tag("success", job.success)]
    result_xml = "".join(body)
    return f"<checkDeployStatusResponse><result>{result_xml}</result></checkDeployStatusResponse>"


def cancel_deploy(app, call, version):
    job = deploy_job(app, md(call, "String") or md(call, "asyncProcessId") or "")
    job.cancel()
    return (f"<cancelDeployResponse><result>{tag('done', True)}{tag('id', job.id)}"
            "</result></cancelDeployResponse>")


# ----- retrieve -----------------------------------------------------------------------------


def retrieve(app, call, version):
    # CumulusCI names the argument <retrieveRequest> (the WSDL's name), jsforce (sf) <request>;
    # Salesforce takes both.
    request = call.find(f"{{{MD_NS}}}retrieveRequest")
    if request is None:
        request = call.find(f"{{{MD_NS}}}request")
    unpackaged = request.find(f"{{{MD_NS}}}unpackaged") if request is not None else None
    names = [n.text.strip() for n in request.findall(f"{{{MD_NS}}}packageNames") if n.text] \
        if request is not None else []
    if unpackaged is None and len(names) != 1:
        raise SalesforceError("NOT_IMPLEMENTED", "retrieve needs <unpackaged> or exactly one "
                              "<packageNames> in localorg")
    job_id = app.jobs.new_id(RETRIEVE_PREFIX)
    if unpackaged is not None:
        manifest = etree.Element(f"{{{MD_NS}}}Package", nsmap={None: MD_NS})
        manifest.extend(deepcopy(child) for child in unpackaged)
        job = Retrieve(job_id, "unpackaged", manifest=manifest)
    else:
        job = Retrieve(job_id, names[0], package=names[0])
    app.jobs.put(job_id, job)
    return (f"<retrieveResponse><result>{tag('done', False)}{tag('id', job_id)}"
            f"{tag('state', job.state)}</result></retrieveResponse>")


def check_status(app, call, version):
    """checkStatus (CumulusCI polls retrieves with it): moves a retrieve on, as
    checkRetrieveStatus does; a deploy is moved on by checkDeployStatus only."""
    job_id = md(call, "asyncProcessId") or ""
    job = app.jobs.get(job_id)
    if job is None:
        raise SalesforceError("INVALID_ID_FIELD", f"Invalid async process id: {job_id}")
    if isinstance(job, Retrieve):
        job.poll(app.org)
    return (f"<checkStatusResponse><result>{tag('done', job.done)}{tag('id', job.id)}"
            f"{tag('state', job.state)}</result></checkStatusResponse>")


def file_property(app, kind, name, path) -> str:
    stamp = now()
    return ("<fileProperties>" + tag("createdById", app.org.default_user_id)
            + tag("createdByName", "Local Admin") + tag("createdDate", stamp)
            + tag("fileName", path) + tag("fullName", name) + tag("id", "")
            + tag("lastModifiedById", app.org.default_user_id)
            + tag("lastModifiedByName", "Local Admin") + tag("lastModifiedDate", stamp)
            + tag("manageableState", "unmanaged") + tag("type", kind) + "</fileProperties>")


def check_retrieve_status(app, call, version):
    job_id = md(call, "asyncProcessId") or ""
    job = app.jobs.get(job_id)
    if not isinstance(job, Retrieve):
        raise SalesforceError("INVALID_ID_FIELD", f"Invalid retrieve id: {job_id}")
    job.poll(app.org)
    head = "<checkRetrieveStatusResponse><result>" + tag("done", job.done)
    tail = "</result></checkRetrieveStatusResponse>"
    if not job.done:
        return head + tag("id", job.id) + tag("status", job.status) + tag("success", False) + tail
    if job.error:
        return (head + tag("errorMessage", job.error[1]) + tag("errorStatusCode", job.error[0])
                + tag("id", job.id) + tag("status", "Failed") + tag("success", False) + tail)
    props = "".join(file_property(app, *p) for p in job.props)
    msgs = "".join(f"<messages>{tag('fileName', f)}{tag('problem', p)}</messages>"
                   for f, p in job.messages)
    return (head + props + tag("id", job.id) + msgs + tag("status", "Succeeded")
            + tag("success", True) + tag("zipFile", base64.b64encode(job.zip).decode()) + tail)


# ----- list / read --------------------------------------------------------------------------


def list_metadata(app, call, version):
    out = []
    for query in call.findall(f"{{{MD_NS}}}queries"):
        kind = md(query, "type")
        if kind not in RETRIEVABLE:
            raise SalesforceError("NOT_IMPLEMENTED",
                                  f"listMetadata of type {kind} is not implemented by localorg")
        for name in retrieving.names_of(app.org, kind):
            prop = file_property(app, kind, name, file_name(kind, name))
            out.append(prop.replace("fileProperties", "result"))
    return f"<listMetadataResponse>{''.join(out)}</listMetadataResponse>"


def read_metadata(app, call, version):
    kind = md(call, "type")
    if kind not in RETRIEVABLE:
        raise SalesforceError("NOT_IMPLEMENTED",
                              f"readMetadata of type {kind} is not implemented by localorg")
    records = []
    for el in call.findall(f"{{{MD_NS}}}fullNames"):
        name = (el.text or "").strip()
        body = retrieving.source_of(app.org, kind, name)
        if body is None:
            continue  # Salesforce returns an empty record for missing names; we omit it
        root = etree.fromstring(body)
        inner = "".join(etree.tostring(child, encoding="unicode") for child in root
                        if etree.QName(child).localname != "fullName")
        records.append(f'<records xsi:type="{kind}">{tag("fullName", name)}{inner}</records>')
    return f"<readMetadataResponse><result>{''.join(records)}</result></readMetadataResponse>"


OPERATIONS = {
    "deploy": deploy,
    "checkDeployStatus": check_deploy_status,
    "cancelDeploy": cancel_deploy,
    "retrieve": retrieve,
    "checkStatus": check_status,
    "checkRetrieveStatus": check_retrieve_status,
    "listMetadata": list_metadata,
    "readMetadata": read_metadata,
}
