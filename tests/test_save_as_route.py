"""The "Save As" route end to end on the local org: `calendly_setup_clone` copies the stand-in
package's template Calendly__CreateEventTemplate, activates the copy, and a booking then gets
its Event with every participant.

The route's commands (`bin/cci task run calendly_deploy_sync_fields`, `bin/cci flow run
calendly_setup_clone`) run as commands in the README's test; here they run in this process
(tests/fixtures/inprocess.py) on a fresh served org."""

import pytest
from simple_salesforce import Salesforce

from localorg import calendly
from localorg.standin import install_flows
from tests.fixtures import inprocess

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live(serve_module_org):
    """A fresh org as `python -m localorg start` makes it: the stand-in with its flows."""
    org = calendly.local_org()
    install_flows(org)
    return serve_module_org(org)


@pytest.fixture
def sf(live):
    return Salesforce(instance=f"127.0.0.1:{live.port}", session_id=live.token, version="63.0")


def test_the_local_org_ships_the_template_inactive_and_its_subflows_active(sf):
    rows = sf.toolingexecute(
        "query/?q=SELECT+DeveloperName,NamespacePrefix,ActiveVersionId+FROM+FlowDefinition"
        "+WHERE+NamespacePrefix='Calendly'")["records"]
    active = {r["DeveloperName"]: bool(r["ActiveVersionId"]) for r in rows}
    assert active == {"CreateEventTemplate": False, "Create_Event_Template": True,
                      "Create_Event_Participant_Template": True}


def test_save_as_route_clones_activates_and_books_with_participants(live, sf, project_config,
                                                                    cci_org, monkeypatch):
    # The stand-in template is this project's flow under the package namespace: it writes the
    # booking's sync outcome to the project's fields, so the local org needs them first.
    org = cci_org(live)
    inprocess.no_poll_sleeps(monkeypatch)
    fields = inprocess.run_task(project_config, org, "calendly_deploy_sync_fields")
    assert fields["missing"] and fields["deployed"]
    inprocess.run_flow(project_config, org, "calendly_setup_clone",
                       {"calendly_clone_flow": {"target": "Calendly_Sync_Test"}})
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
