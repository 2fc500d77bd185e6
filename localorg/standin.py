"""The Calendly package stand-in's flows: its template and the two subflows the template calls.

The package's flow source is not published, so the stand-in builds them from this project's
flows/ when `python -m localorg start` serves an org with the package (in-process test orgs
stay without them): each flow gets the `Calendly__` prefix, and
so do the subflows it calls; the template, `Calendly__CreateEventTemplate`, is marked
`isTemplate` and installed inactive (an admin "saves it as" a new flow and activates that);
the subflows are installed active, for the copy to call them. Built at install time, they stay
in step with the flows they stand in for; like them, they write the booking's sync outcome to
the project's fields (`calendly_deploy_sync_fields`). Real orgs get Calendly's own flows.
"""

from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FLOWS = ROOT / "flows"
NAMESPACE = "Calendly"
TEMPLATE = "CreateEventTemplate"
SUBFLOWS = ("Create_Event_Template", "Create_Event_Participant_Template")
MD = "http://soap.sforce.com/2006/04/metadata"


def _packaged(name: str, active: bool, template: bool) -> bytes:
    root = etree.fromstring((PROJECT_FLOWS / f"{name}.flow-meta.xml").read_bytes())
    for called in root.iter(f"{{{MD}}}flowName"):
        if called.text in SUBFLOWS:
            called.text = f"{NAMESPACE}__{called.text}"
    root.find(f"{{{MD}}}status").text = "Active" if active else "Draft"
    if template and root.find(f"{{{MD}}}isTemplate") is None:
        flag = etree.Element(f"{{{MD}}}isTemplate")
        flag.text = "true"
        root.find(f"{{{MD}}}label").addprevious(flag)  # XSD order: isTemplate before label
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def package_flows() -> dict:
    """{API name with the namespace prefix: Flow XML} of the stand-in package."""
    flows = {f"{NAMESPACE}__{name}": _packaged(name, active=True, template=False)
             for name in SUBFLOWS}
    flows[f"{NAMESPACE}__{TEMPLATE}"] = _packaged(TEMPLATE, active=False, template=True)
    return flows


def install_flows(org) -> None:
    """Install the flows the org does not have yet (an org keeps the ones it has)."""
    have = {flow["name"] for flow in org.flows()}
    for name, xml in package_flows().items():
        if name not in have:
            org.deploy_flow(name, xml)
