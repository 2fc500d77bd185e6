"""calendly_preflight against the embedded local org: read-only, one table, blockers named."""

import json
import re

import pytest
from cumulusci.core.config import TaskConfig
from cumulusci.core.exceptions import TaskOptionsError
from cumulusci.core.flowrunner import FlowCoordinator
from simple_salesforce import Salesforce

from localorg import calendly
from localorg.calendly import ROOT
from tasks.preflight import Preflight, PreflightError


@pytest.fixture
def run_preflight(project_config, cci_org):
    return lambda live, **options: _run(project_config, cci_org(live), options)


def _run(project_config, org_config, options):
    task = Preflight(project_config, TaskConfig({"options": options}), org_config)
    try:
        task()
    finally:
        checks = {row["check"]: row for row in getattr(task, "rows", [])}
    return task, checks


def test_a_ready_org_passes_and_nothing_is_written(local_org, run_preflight, tmp_path):
    with local_org("2.5") as live:
        task, checks = run_preflight(live, json_output=str(tmp_path / "p.json"))
        assert live.writes() == 0
    assert task.return_values["ok"] is True
    assert task.return_values["blockers"] == 0
    assert checks["Calendly package"]["state"] == "ok"
    assert checks["Shared Activities"]["state"] == "ok"
    assert checks["Event layouts"]["state"] == "ok"
    assert checks["Other flows on Calendly__CalendlyAction__c"]["state"] == "ok"
    for sobject in ("Calendly__CalendlyAction__c", "Event", "EventRelation", "Contact", "Lead"):
        assert checks[f"Fields of {sobject}"]["state"] == "ok", checks[f"Fields of {sobject}"]
    written = json.loads((tmp_path / "p.json").read_text())
    assert written == task.return_values


def test_an_old_package_and_a_missing_layout_are_blockers_named_together(
    local_org, run_preflight
):
    with local_org("2.4") as live:
        with pytest.raises(PreflightError) as failure:
            run_preflight(live, layouts="Event-Sales Layout")
        assert live.writes() == 0
    message = str(failure.value)
    assert "[Calendly package]" in message and "2.4" in message
    assert "[Event layouts] Not found: Event-Sales Layout" in message
    assert "Event-Event Layout" in message  # the layouts the org has


def test_a_mapped_field_the_org_lacks_is_named_with_its_close_names(project_config, local_org,
                                                                    run_preflight):
    project_config.config["project"]["custom"] = {
        "calendly_fields": {"guest_emails": "Calendly__EventGuestEmail__c"}
    }
    with local_org("2.5") as live:
        with pytest.raises(PreflightError) as failure:
            run_preflight(live)
    message = str(failure.value)
    assert "Calendly__CalendlyAction__c.Calendly__EventGuestEmail__c" in message
    assert "mapped by project.custom.calendly_fields.guest_emails" in message
    assert "close names in the org: Calendly__EventGuestEmails__c" in message


@pytest.mark.parametrize(
    "mapping, expected",
    [
        ({"guests": "X__c"}, "unknown key(s) guests; the keys are guest_emails, host_emails"),
        ({"guest_emails": "bad name"}, "guest_emails is 'bad name', not a field API name"),
        ("Calendly__X__c", "must map names to fields"),
    ],
)
def test_a_bad_mapping_is_named_before_any_call(project_config, local_org, run_preflight,
                                                mapping, expected):
    project_config.config["project"]["custom"] = {"calendly_fields": mapping}
    with local_org("2.5") as live:
        with pytest.raises(TaskOptionsError, match=re.escape(expected)):
            run_preflight(live)
        assert sum(live.app.calls.values()) == 0


def test_a_path_without_flows_is_refused(local_org, run_preflight, tmp_path):
    with local_org("2.5") as live:
        with pytest.raises(TaskOptionsError, match="holds no \\*.flow-meta.xml files"):
            run_preflight(live, path=str(tmp_path))


GUESTS = "Calendly__EventGuestEmails__c"
RENAMED = "Calendly__GuestEmailList__c"


def test_an_org_whose_package_names_the_guest_field_differently_is_a_blocker(
    serve_org, run_preflight
):
    live = serve_org(calendly.local_org(renames={GUESTS: RENAMED}))
    with pytest.raises(PreflightError) as failure:
        run_preflight(live)
    message = str(failure.value)
    assert f"Calendly__CalendlyAction__c.{GUESTS}" in message
    assert "project.custom.calendly_fields" in message
    assert live.writes() == 0


def test_with_the_mapping_set_the_setup_completes_and_bookings_sync(
    serve_org, project_config, cci_org
):
    project_config.config["project"]["custom"] = {"calendly_fields": {"guest_emails": RENAMED}}
    live = serve_org(calendly.local_org(renames={GUESTS: RENAMED}))
    coordinator = FlowCoordinator(project_config, project_config.get_flow("calendly_setup"))
    coordinator.run(cci_org(live))
    assert coordinator.results[0].return_values["ok"] is True
    deployed = live.org.flow_xml("CreateEventTemplate")
    assert RENAMED.encode() in deployed and GUESTS.encode() not in deployed

    sf = Salesforce(instance_url=live.url, session_id=live.token, version="63.0")
    sf.Contact.create({"LastName": "Lee", "Email": "ann@example.com"})
    sf.Calendly__CalendlyAction__c.create({
        "Name": "invitee.created", "Calendly__InviteeUuid__c": "uuid-renamed-1",
        "Calendly__InviteeEmail__c": "primary@example.com",
        "Calendly__EventStartTime__c": "2026-12-01T10:00:00.000Z",
        "Calendly__EventEndTime__c": "2026-12-01T10:30:00.000Z",
        "Calendly__EventSubject__c": "Intro", RENAMED: "ann@example.com",
    })
    events = sf.query("SELECT Id FROM Event WHERE Calendly__InviteeUuid__c = 'uuid-renamed-1'")
    assert events["totalSize"] == 1
    event_id = events["records"][0]["Id"]
    relations = sf.query(f"SELECT Relation.Name FROM EventRelation WHERE EventId = '{event_id}'")
    assert [r["Relation"]["Name"] for r in relations["records"]] == ["Lee"]


def test_shared_activities_off_is_a_blocker_with_the_setup_path(serve_org, project_config,
                                                                cci_org):
    live = serve_org(calendly.local_org(shared_activities=False))
    task = Preflight(project_config, TaskConfig({"options": {}}), cci_org(live))
    with pytest.raises(PreflightError) as failure:
        task()
    message = str(failure.value)
    assert "[Shared Activities] Off: EventRelation has no IsParent field" in message
    assert "Setup > Activity Settings" in message and "cannot turn it off" in message
    assert "Fields of EventRelation" not in message  # said once, by its own check
    rows = {row["check"]: row for row in task.rows}
    assert rows["Fields of EventRelation"]["state"] == "ok"
    assert "IsParent: see Shared Activities" in rows["Fields of EventRelation"]["detail"]
    assert live.writes() == 0


def test_another_active_flow_on_the_booking_object_is_a_warning_naming_it(
    serve_org, run_preflight
):
    org = calendly.local_org()
    xml = (ROOT / "flows" / "CreateEventTemplate.flow-meta.xml").read_bytes()
    org.deploy_flow("CreateEventTemplate", xml)  # the project's own: never reported
    org.activate_flow("CreateEventTemplate", 1)
    org.deploy_flow("Booking_Notifier", xml.replace(b"<label>CreateEventTemplate<",
                                                    b"<label>Booking Notifier<"))
    org.activate_flow("Booking_Notifier", 1)
    org.deploy_flow("Inactive_Copy", xml)  # inactive: never reported
    task, checks = run_preflight(serve_org(org))
    row = checks["Other flows on Calendly__CalendlyAction__c"]
    assert row["state"] == "warning" and task.return_values["ok"] is True
    assert row["detail"].startswith("Active: Booking_Notifier (Booking Notifier, RecordAfterSave)")
    assert "duplicate Events" in row["detail"] and "active False" in row["action"]
