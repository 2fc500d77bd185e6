"""The "Save As" route end to end on the local org: `bin/cci flow run calendly_setup_clone`
copies the stand-in package's template Calendly__CreateEventTemplate, activates the copy, and a
booking then gets its Event with every participant."""

import subprocess
from pathlib import Path

import pytest

from localorg.demo import connect, fresh_org

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def org_env(tmp_path_factory):
    with fresh_org(tmp_path_factory.mktemp("localorg"), "local") as env:
        yield env


def test_the_local_org_ships_the_template_inactive_and_its_subflows_active(org_env):
    sf = connect(org_env)
    rows = sf.toolingexecute(
        "query/?q=SELECT+DeveloperName,NamespacePrefix,ActiveVersionId+FROM+FlowDefinition"
        "+WHERE+NamespacePrefix='Calendly'")["records"]
    active = {r["DeveloperName"]: bool(r["ActiveVersionId"]) for r in rows}
    assert active == {"CreateEventTemplate": False, "Create_Event_Template": True,
                      "Create_Event_Participant_Template": True}


def test_save_as_route_clones_activates_and_books_with_participants(org_env):
    # The stand-in template is this project's flow under the package namespace: it writes the
    # booking's sync outcome to the project's fields, so the local org needs them first.
    fields = subprocess.run(
        [str(ROOT / "bin" / "cci"), "task", "run", "calendly_deploy_sync_fields", "--org",
         "local"], cwd=ROOT, env=org_env, text=True, capture_output=True, timeout=600)
    assert fields.returncode == 0, fields.stdout[-4000:] + fields.stderr[-2000:]
    result = subprocess.run(
        [str(ROOT / "bin" / "cci"), "flow", "run", "calendly_setup_clone", "--org", "local",
         "-o", "calendly_clone_flow__target", "Calendly_Sync_Test"],
        cwd=ROOT, env=org_env, text=True, capture_output=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    sf = connect(org_env)
    flows = sf.toolingexecute(
        "query/?q=SELECT+DeveloperName,ActiveVersionId+FROM+FlowDefinition"
        "+WHERE+DeveloperName='Calendly_Sync_Test'")["records"]
    assert flows and flows[0]["ActiveVersionId"]
    owner = sf.query("SELECT Email FROM User WHERE IsActive = true LIMIT 1")["records"][0]["Email"]
    contact = sf.Contact.create({"LastName": "Guest", "Email": "guest.saveas@client.test"})
    sf.Calendly__CalendlyAction__c.create({
        "Calendly__InviteeUuid__c": "save-as-1",
        "Calendly__EventUuid__c": "event-save-as-1",
        "Calendly__EventSubject__c": "Save As demo",
        "Calendly__EventStartTime__c": "2026-12-01T10:00:00.000Z",
        "Calendly__EventEndTime__c": "2026-12-01T10:30:00.000Z",
        "Calendly__EventPrimaryPublisherEmail__c": owner,
        "Calendly__InviteeEmail__c": "primary.saveas@client.test",
        "Calendly__InviteeName__c": "Primary Invitee",
        "Calendly__EventTypeKind__c": "OneOnOne",
        "Calendly__EventGuestEmails__c": "guest.saveas@client.test",
        "Name": "invitee.created",
    })
    events = sf.query("SELECT Id, Subject FROM Event WHERE Calendly__InviteeUuid__c = "
                      "'save-as-1'")["records"]
    assert [e["Subject"] for e in events] == ["Save As demo"]
    relations = sf.query(f"SELECT RelationId FROM EventRelation WHERE EventId = "
                         f"'{events[0]['Id']}'")["records"]
    assert [r["RelationId"] for r in relations] == [contact["id"]]
