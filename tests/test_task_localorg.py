"""The project's tasks and calendly_setup against the embedded local org (real HTTP, TLS)."""

import pytest
from cumulusci.core.flowrunner import FlowCoordinator

from tasks.preflight import PreflightError


@pytest.fixture
def local(local_org):
    with local_org("2.5") as live:
        yield live


def run_setup(project_config, org_config):
    coordinator = FlowCoordinator(project_config, project_config.get_flow("calendly_setup"))
    coordinator.run(org_config)
    return {result.task_name: result.return_values for result in coordinator.results}


def test_calendly_setup_on_the_local_org_then_a_rerun_writes_nothing(project_config, local,
                                                                     cci_org):
    first = run_setup(project_config, cci_org(local))
    assert first["calendly_preflight"]["ok"] is True
    deployed = first["calendly_deploy_sync_fields"]["deployed"]  # a fresh org lacks them all
    assert len(deployed) == 5 and deployed[-1] == "PermissionSet:Calendly_Participant_Sync"
    assert local.app.org.component("PermissionSet", "Calendly_Participant_Sync") is not None
    assert sorted(first["calendly_deploy_flows"]["deployed"]) == [
        "CreateEventTemplate",
        "Create_Event_Participant_Template",
        "Create_Event_Template",
    ]
    assert first["calendly_activate_flow"]["changed"] is True
    assert first["calendly_patch_event_layout"]["patched"] == ["Event-Event Layout"]
    after_first = local.writes()
    # fields deploy, permission set deploy, flow deploy, activation PATCH, layout deploy
    assert after_first == 5

    second = run_setup(project_config, cci_org(local))
    assert second["calendly_deploy_sync_fields"] == {"missing": [], "deployed": [],
                                                    "would_deploy": [], "dry_run": False}
    assert second["calendly_deploy_flows"]["deployed"] == []
    assert second["calendly_activate_flow"]["changed"] is False
    assert second["calendly_patch_event_layout"]["already_patched"] == ["Event-Event Layout"]
    assert local.writes() == after_first


def test_calendly_setup_stops_on_an_org_with_an_old_package(project_config, local_org, cci_org):
    with local_org("2.4") as live:
        with pytest.raises(PreflightError, match="at version 2.4 .* older than the required 2.5"):
            run_setup(project_config, cci_org(live))
        assert live.writes() == 0


def test_the_local_org_has_no_permission_set_assignments_so_setup_skips_assigning(
        project_config, local, cci_org):
    from simple_salesforce.exceptions import SalesforceMalformedRequest

    sf = cci_org(local).salesforce_client
    for soql in ("SELECT Id, Name FROM PermissionSet",
                 "SELECT PermissionSetId FROM PermissionSetAssignment"):
        with pytest.raises(SalesforceMalformedRequest, match="INVALID_TYPE"):
            sf.query(soql)
    results = run_setup(project_config, cci_org(local))
    assert "calendly_assign_permission_set" not in results  # `when`: real orgs only
