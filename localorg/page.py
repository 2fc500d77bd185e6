"""Read-only Event record page of the local org, laid out by the deployed Event page layout.

Salesforce shows a record through its page layout; the local org has no Lightning UI, so this
module renders the one page this project needs to prove: an Event laid out by the Layout
metadata deployed to the org (`Event-Event Layout`), sections and fields in layout order. The
`Attendees` item (the Lightning field the Calendly article calls "Participants"; the name as
layouts retrieved from real orgs spell it, see force-app's Event layout) lists the Event's
invitees (EventRelation.IsInvitee = true). If the deployed layout has no Attendees item, the
page has none either.

Contract with the HTTP server (`localorg.server.page`): the server authenticates the request,
loads the deployed layout's XML and calls `render_event_page(org, event_id, layout_xml)`; on
`EventPageError` it answers `error.status` with `error.html`.
"""

from datetime import datetime
from html import escape

from lxml import etree

from localorg.conditions import And, Cmp
from localorg.errors import SalesforceError
from localorg.schema import MD_NS

EVENT_LAYOUT_NAME = "Event-Event Layout"
ATTENDEES_ITEM = "Attendees"
# Layout items of the Event layout that are not Event fields: the Who's phone and email.
WHO_ITEMS = {"Phone": "Phone", "Email": "Email"}
NS = {"md": MD_NS}

STYLE = """
body{font-family:sans-serif;margin:2em;color:#181818}
h1{font-size:1.4em}
section{border-top:1px solid #ccc;margin-top:1em}
.columns{display:flex;gap:2em}
.column{flex:1}
.field{margin:.4em 0}
.label{display:block;color:#555;font-size:.85em}
.note{color:#777;font-size:.85em}
"""


class EventPageError(Exception):
    """The page cannot be shown: HTTP `status`, Salesforce `error_code`, and an HTML error page."""

    def __init__(self, status: int, error_code: str, message: str):
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.html = _document("Error", f"<h1>{escape(error_code)}</h1><p>{escape(message)}</p>")


def _document(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body>{body}</body></html>\n")


def parse_layout(layout_xml: bytes) -> list:
    """[(section label, [[field name, …] per column])] of a Layout, in layout order."""
    try:
        root = etree.fromstring(layout_xml, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as err:
        raise EventPageError(500, "INVALID_LAYOUT",
                             f"The deployed layout '{EVENT_LAYOUT_NAME}' is not valid XML: {err}. "
                             "Deploy it again.") from err
    if root.tag != f"{{{MD_NS}}}Layout":
        kind = etree.QName(root).localname
        raise EventPageError(500, "INVALID_LAYOUT",
                             f"The deployed '{EVENT_LAYOUT_NAME}' is a <{kind}>, not a Layout. "
                             "Deploy the Event layout again.")
    sections = []
    for section in root.iterfind("md:layoutSections", NS):
        if section.findtext("md:style", namespaces=NS) == "CustomLinks":
            continue  # custom links are buttons, not fields
        columns = [[item.findtext("md:field", namespaces=NS)
                    for item in column.iterfind("md:layoutItems", NS)
                    if item.findtext("md:field", namespaces=NS)]
                   for column in section.iterfind("md:layoutColumns", NS)]
        if any(columns):
            sections.append((section.findtext("md:label", default="", namespaces=NS), columns))
    return sections


def _format(fdef, value, names: dict) -> str:
    if value is None or value == "":
        return ""
    if fdef.type == "reference":
        return names.get(value, value)
    if fdef.type == "boolean":
        return "Yes" if value else "No"
    if fdef.type == "datetime":
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00").replace("+0000",
                                                                                  "+00:00"))
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def _attendees_html(attendees: list) -> str:
    if not attendees:
        return "<span class=\"value\">No attendees</span>"
    items = "".join(
        f"<li data-relation-type=\"{escape(a['type'])}\">{escape(a['name'] or '')} "
        f"&lt;{escape(a['email'] or '')}&gt; ({escape(a['type'])})</li>" for a in attendees)
    return f"<ul class=\"value attendees\">{items}</ul>"


def _load(org, event_id: str):
    """The Event, the names of the records it points to, its Who and its attendees."""
    with org.transaction() as txn:
        try:
            event = txn.retrieve("Event", event_id)
        except SalesforceError as err:
            raise EventPageError(400, err.code, f"'{event_id}' is not a valid record id.") from err
        if event is None:
            raise EventPageError(404, "NOT_FOUND",
                                 f"No Event with id '{event_id}' exists in this org.")
        odef = org.describe("Event")
        names, who = {}, None
        for fdef in odef.fields.values():
            ref = event.get(fdef.name) if fdef.type == "reference" else None
            if not ref:
                continue
            target = org.object_for_id(ref)
            record = txn.retrieve(target.name, ref) if target else None
            if record is not None:
                names[ref] = record.get("Name") or ref
                if fdef.name == "WhoId":
                    who = record
        relations = txn.query(
            "EventRelation", ["Relation.Name", "Relation.Email", "Relation.Type"],
            where=And(Cmp("EventId", "=", event["Id"]), Cmp("IsInvitee", "=", True)),
            order_by=[("Relation.Name", False, True)])
    attendees = [{"name": (r["Relation"] or {}).get("Name"),
                  "email": (r["Relation"] or {}).get("Email"),
                  "type": (r["Relation"] or {}).get("Type", "")} for r in relations]
    return odef, event, names, who, attendees


def render_event_page(org, event_id: str, layout_xml: bytes | None) -> str:
    """The Event's read-only page as an HTML document; raises EventPageError (see module doc)."""
    if layout_xml is None:
        raise EventPageError(404, "NOT_FOUND",
                             f"No Event layout '{EVENT_LAYOUT_NAME}' is deployed in this org. "
                             "Deploy one (e.g. cci task run deploy --path force-app --org local).")
    sections = parse_layout(layout_xml)
    odef, event, names, who, attendees = _load(org, event_id)
    parts = [f"<h1>Event: {escape(event.get('Subject') or '')}</h1>",
             f"<p class=\"note\">Read-only page of the local org, laid out by the deployed "
             f"layout '{escape(EVENT_LAYOUT_NAME)}'.</p>"]
    for label, columns in sections:
        column_html = []
        for column in columns:
            fields = []
            for name in column:
                if name == ATTENDEES_ITEM:
                    label_text, value_html = "Attendees", _attendees_html(attendees)
                elif odef.has(name):
                    fdef = odef.field(name)
                    label_text = fdef.label
                    if fdef.type == "reference" and label_text.endswith(" ID"):
                        label_text = label_text[:-3]  # the UI labels a lookup by its record
                    value_html = ("<span class=\"value\">"
                                  f"{escape(_format(fdef, event.get(fdef.name), names))}</span>")
                elif name in WHO_ITEMS:
                    label_text = name
                    value_html = (f"<span class=\"value\">"
                                  f"{escape(str((who or {}).get(WHO_ITEMS[name]) or ''))}</span>")
                else:
                    label_text = name
                    value_html = ("<span class=\"value note\">(this layout item is not rendered "
                                  "by the local org)</span>")
                fields.append(f"<div class=\"field\" data-field=\"{escape(name)}\">"
                              f"<span class=\"label\">{escape(label_text)}</span>{value_html}"
                              "</div>")
            column_html.append(f"<div class=\"column\">{''.join(fields)}</div>")
        parts.append(f"<section><h2>{escape(label)}</h2>"
                     f"<div class=\"columns\">{''.join(column_html)}</div></section>")
    return _document(f"Event: {event.get('Subject') or ''}", "".join(parts))
