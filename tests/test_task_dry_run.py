"""A dry run of calendly_setup on a first install (the local org, no project flow yet): it
completes, every step says what it would do, nothing is written, and every writing task returns
the same keys in a dry run as in a real one."""

import logging

import pytest
from cumulusci.core.flowrunner import FlowCoordinator

from tasks.flow_activation import FlowActivationError

DRY_RUN = {task: {"dry_run": True} for task in (
    "calendly_deploy_sync_fields", "calendly_deploy_flows", "calendly_activate_flow",
    "calendly_patch_event_layout", "calendly_assign_permission_set")}
SYNC_FIELDS = ["Sync_Error__c", "Sync_Status__c", "Unmatched_Guest_Count__c",
               "Unmatched_Guest_Emails__c"]
FLOWS = ["CreateEventTemplate", "Create_Event_Participant_Template", "Create_Event_Template"]


@pytest.fixture
def local(local_org):
    with local_org("2.5") as live:
        yield live


def setup(project_config, cci_org, live, options=None):
    coordinator = FlowCoordinator(project_config, project_config.get_flow("calendly_setup"),
                                  options=options or {})
    coordinator.run(cci_org(live))
    return [(r.task_name, r.return_values) for r in coordinator.results]


def test_first_install_dry_run_completes_says_everything_and_writes_nothing(
        project_config, cci_org, local, caplog):
    caplog.set_level(logging.INFO)
    layout = local.org.component("Layout", "Event-Event Layout")
    results = setup(project_config, cci_org, local, DRY_RUN)
    assert [name for name, _ in results] == [
        "calendly_preflight", "calendly_deploy_sync_fields", "calendly_deploy_flows",
        "calendly_activate_flow", "calendly_activate_flow", "calendly_activate_flow",
        "calendly_patch_event_layout"]
    values = dict(results[:3]) | {"layout": results[-1][1]}
    assert values["calendly_deploy_sync_fields"]["would_deploy"] == [
        f"Calendly__CalendlyAction__c.{name}" for name in SYNC_FIELDS] + [
        "PermissionSet:Calendly_Participant_Sync"]
    assert values["calendly_deploy_flows"]["would_deploy"] == FLOWS
    activations = [v for name, v in results if name == "calendly_activate_flow"]
    assert [(a["developer_name"], a["would_change_to"]) for a in activations] == [
        ("Create_Event_Participant_Template", 1), ("Create_Event_Template", 1),
        ("CreateEventTemplate", 1)]
    assert values["layout"]["would_patch"] == ["Event-Event Layout"]
    said = caplog.text
    assert "Dry run: would deploy CreateEventTemplate" in said
    assert ("Dry run: flow CreateEventTemplate is not in org local yet; calendly_deploy_flows "
            "would deploy it from flows/CreateEventTemplate.flow-meta.xml as version 1") in said
    assert "Dry run: would add Attendees to Event-Event Layout. Nothing written." in said
    assert local.writes() == 0
    assert local.org.flows() == []
    booking = local.org.describe("Calendly__CalendlyAction__c")
    assert not [name for name in SYNC_FIELDS if booking.has(name)]
    assert local.org.component("Layout", "Event-Event Layout") == layout
    assert local.org.component("PermissionSet", "Calendly_Participant_Sync") is None


def test_dry_run_and_real_run_return_the_same_keys(project_config, cci_org, local):
    dry = setup(project_config, cci_org, local, DRY_RUN)
    real = setup(project_config, cci_org, local)
    assert [(n, sorted(v)) for n, v in dry] == [(n, sorted(v)) for n, v in real]
    for name, values in dry[1:]:
        assert values["dry_run"] is True, name
    for name, values in real[1:]:
        assert values["dry_run"] is False, name


def test_a_flow_neither_in_the_org_nor_in_the_project_still_fails_the_dry_run(
        project_config, cci_org, local):
    flow = project_config.get_flow("calendly_setup")
    coordinator = FlowCoordinator(project_config, flow, options={
        **DRY_RUN, "calendly_activate_flow": {"dry_run": True, "developer_name": "Nope"}})
    with pytest.raises(FlowActivationError, match="Flow Nope does not exist in org local"):
        coordinator.run(cci_org(local))
