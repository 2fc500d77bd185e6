"""The local org's read-only Event page (localorg/page.py).

Unit tests render the page from an in-memory org; the browser test opens it in headless
Chromium through the running local org, before and after the project's layout patch task.
"""

import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from lxml import etree

from localorg.calendly import local_org
from localorg.demo import connect, localorg, org_config, register_env, stop_org
from localorg.page import EVENT_LAYOUT_NAME, EventPageError, render_event_page
from localorg.schema import MD_NS
from localorg.users import complete_users
from tests.fixtures import inprocess

ROOT = Path(__file__).resolve().parents[1]
PATCHED_LAYOUT = ROOT / "force-app" / "main" / "default" / "layouts" / (
    EVENT_LAYOUT_NAME + ".layout-meta.xml")


def stock_layout() -> bytes:
    """The project's layout minus the Attendees item: Salesforce's stock Event layout."""
    root = etree.fromstring(PATCHED_LAYOUT.read_bytes())
    items = root.xpath("//md:layoutItems[md:field='Attendees']", namespaces={"md": MD_NS})
    assert len(items) == 1, "the project's Event layout must hold exactly one Attendees item"
    items[0].getparent().remove(items[0])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.fixture
def booked():
    """An org with one Event: a Contact as Who, and Contact, Lead and User invitees."""
    org = local_org()
    with org.transaction() as txn:
        who, guest = txn.insert("Contact", [
            {"FirstName": "Paula", "LastName": "Prospect", "Email": "paula@client.test"},
            {"FirstName": "Quinn", "LastName": "Guest", "Email": "quinn@client.test"}])
        (lead,) = txn.insert("Lead", [{"LastName": "Lead", "FirstName": "Lena",
                                       "Company": "Lead Co", "Email": "lena@lead.test"}])
        (user,) = txn.insert("User", complete_users(txn, [{
            "FirstName": "Ben", "LastName": "Cohost", "Email": "ben@acme.test",
            "Username": "ben@acme.test.x", "Alias": "ben"}]))
        (event,) = txn.insert("Event", [{
            "Subject": "Discovery <call>", "WhoId": who,
            "StartDateTime": "2026-12-01T09:00:00Z", "EndDateTime": "2026-12-01T09:30:00Z"}])
        txn.insert("EventRelation", [
            {"EventId": event, "RelationId": guest, "IsInvitee": True, "IsParent": True},
            {"EventId": event, "RelationId": lead, "IsInvitee": True, "IsParent": False},
            {"EventId": event, "RelationId": user, "IsInvitee": True, "IsParent": False}])
    return org, event


def test_patched_layout_lists_the_invitees(booked):
    org, event = booked
    html = render_event_page(org, event, PATCHED_LAYOUT.read_bytes())
    page = etree.HTML(html)
    (attendees,) = page.xpath("//div[@data-field='Attendees']")
    entries = [li.xpath("string()") for li in attendees.iter("li")]
    # Invitees only, by name: the Who (IsInvitee = false) is not an attendee.
    assert entries == ["Ben Cohost <ben@acme.test> (User)",
                       "Lena Lead <lena@lead.test> (Lead)",
                       "Quinn Guest <quinn@client.test> (Contact)"]
    assert page.xpath("string(//div[@data-field='WhoId']/span[@class='value'])") == (
        "Paula Prospect")
    assert "Discovery &lt;call&gt;" in html  # record data is escaped


def test_stock_layout_has_no_attendees_field(booked):
    org, event = booked
    page = etree.HTML(render_event_page(org, event, stock_layout()))
    assert page.xpath("//div[@data-field='Attendees']") == []
    assert page.xpath("//div[@data-field='Subject']")  # the rest of the layout is there
    assert "Quinn Guest" not in etree.tostring(page, encoding="unicode")


def test_layout_order_is_kept(booked):
    org, event = booked
    root = etree.fromstring(PATCHED_LAYOUT.read_bytes())
    fields = root.xpath("//md:layoutItems/md:field/text()", namespaces={"md": MD_NS})
    page = etree.HTML(render_event_page(org, event, PATCHED_LAYOUT.read_bytes()))
    assert page.xpath("//div[@class='field']/@data-field") == fields


def test_event_without_invitees_says_so(booked):
    org, _ = booked
    with org.transaction() as txn:
        (event,) = txn.insert("Event", [{"Subject": "Alone", "StartDateTime":
                                         "2026-12-02T09:00:00Z", "EndDateTime":
                                         "2026-12-02T10:00:00Z"}])
    page = etree.HTML(render_event_page(org, event, PATCHED_LAYOUT.read_bytes()))
    assert page.xpath("string(//div[@data-field='Attendees'])") == "AttendeesNo attendees"


@pytest.mark.parametrize("event_id, layout, status, code", [
    (None, None, 404, "NOT_FOUND"),                   # no layout deployed
    ("not-an-id", "patched", 400, "MALFORMED_ID"),
    ("00U5g0000000999", "patched", 404, "NOT_FOUND"),  # well-formed, no such Event
    (None, b"<Layout", 500, "INVALID_LAYOUT"),
    (None, b"<Flow xmlns='http://soap.sforce.com/2006/04/metadata'/>", 500, "INVALID_LAYOUT"),
])
def test_errors(booked, event_id, layout, status, code):
    org, event = booked
    layout_xml = PATCHED_LAYOUT.read_bytes() if layout == "patched" else layout
    with pytest.raises(EventPageError) as info:
        render_event_page(org, event_id or event, layout_xml)
    assert (info.value.status, info.value.error_code) == (status, code)
    assert info.value.html.startswith("<!DOCTYPE html>")


def test_stock_layout_helper_really_removes_the_item():
    # Guards the negative case above: the stripped layout differs from the patched one.
    assert b"<field>Attendees</field>" in PATCHED_LAYOUT.read_bytes()
    assert b"<field>Attendees</field>" not in stock_layout()


# --- In headless Chromium, through the running local org ------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "apt-get install -y --no-install-recommends chromium"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A fresh local org with Salesforce's stock Event layout and one booked-looking Event."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium ({INSTALL})")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCALORG_HOME", str(tmp_path_factory.mktemp("localorg")))
        yield from _served()


def _served():
    localorg("start", "--fresh", capture=True)
    try:
        env = register_env()
        with tempfile.TemporaryDirectory() as folder:
            deploy_stock_layout(env, Path(folder))
        sf = connect(env)
        guest = sf.Contact.create({"FirstName": "Quinn", "LastName": "Guest",
                                   "Email": "quinn@client.test"})["id"]
        event = sf.Event.create({"Subject": "Discovery call",
                                 "StartDateTime": "2026-12-01T09:00:00.000Z",
                                 "EndDateTime": "2026-12-01T09:30:00.000Z"})["id"]
        sf.EventRelation.create({"EventId": event, "RelationId": guest, "IsInvitee": True})
        yield env, event
    finally:
        stop_org()


def deploy_stock_layout(env, folder: Path) -> None:
    """Deploys the stock layout with cci's stock deploy task (Metadata API format folder), in
    this process (tests/fixtures/inprocess.py), as the layout patch below."""
    (folder / "layouts").mkdir()
    (folder / "layouts" / f"{EVENT_LAYOUT_NAME}.layout").write_bytes(stock_layout())
    (folder / "package.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Package xmlns="{MD_NS}"><types><members>{EVENT_LAYOUT_NAME}</members>'
        "<name>Layout</name></types><version>63.0</version></Package>\n")
    with inprocess.cci(env) as (project, org):
        inprocess.run_task(project, org, "deploy", path=str(folder))


def dump_dom(env, event_id: str) -> etree._Element:
    """The Event page as headless Chromium renders it, logged in through frontdoor.jsp."""
    org = org_config(env)
    url = (f"{org['instance_url']}/secur/frontdoor.jsp?" + urlencode(
        {"sid": org["access_token"], "retURL": f"/lightning/r/Event/{event_id}/view"}))
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--ignore-certificate-errors", f"--user-data-dir={profile}",
             "--dump-dom", url],
            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return etree.HTML(result.stdout)


@pytest.mark.e2e
def test_attendees_appear_only_after_the_layout_patch(served):
    env, event = served
    before = dump_dom(env, event)
    assert before.xpath("string(//h1)") == "Event: Discovery call"
    assert before.xpath("//div[@data-field='Subject']")
    assert before.xpath("//div[@data-field='Attendees']") == []

    with inprocess.cci(env) as (project, org):
        inprocess.run_task(project, org, "calendly_patch_event_layout")
    after = dump_dom(env, event)
    (attendees,) = after.xpath("//div[@data-field='Attendees']")
    assert [li.xpath("string()") for li in attendees.iter("li")] == [
        "Quinn Guest <quinn@client.test> (Contact)"]


@pytest.mark.e2e
def test_page_needs_the_token(served):
    env, event = served
    org = org_config(env)
    url = f"{org['instance_url']}/lightning/r/Event/{event}/view"
    bundle = env["REQUESTS_CA_BUNDLE"]
    assert requests.get(url, verify=bundle, timeout=30).status_code == 401
    wrong = requests.get(url, cookies={"sid": "not-the-token"}, verify=bundle, timeout=30)
    assert wrong.status_code == 401
    assert org["access_token"] not in wrong.text
