"""calendly_validate (calendly_setup's validate mode) on the embedded local org: a check-only
deploy that reports components and changes nothing; Apex tests are refused plainly there."""

import pytest
from cumulusci.core.exceptions import TaskOptionsError
from cumulusci.core.flowrunner import FlowCoordinator

from tasks.validate import ValidateSetup, ValidationFailed


@pytest.fixture
def local(local_org):
    with local_org("2.5") as live:
        yield live


FLOWS = ["CreateEventTemplate", "Create_Event_Participant_Template", "Create_Event_Template"]


def validate(project_config, cci_org, live, **options):
    flow = project_config.get_flow("calendly_validate")
    coordinator = FlowCoordinator(project_config, flow,
                                  options={"calendly_validate_deploy": options})
    coordinator.run(cci_org(live))
    return {r.task_name: r.return_values for r in coordinator.results}


def org_state(live):
    org = live.org
    layout = org.component("Layout", "Event-Event Layout")
    return org.flows(), layout and layout["body"]


def test_no_test_run_validates_a_first_install_and_saves_nothing(project_config, cci_org, local):
    before = org_state(local)
    result = validate(project_config, cci_org, local, test_level="NoTestRun")
    report = result["calendly_validate_deploy"]
    assert report["status"] == "Succeeded" and report["check_only"] is True
    assert sorted(report["components"]) == sorted(
        [f"Flow {name}" for name in FLOWS]
        + ["Layout Event-Event Layout", "CustomObject Calendly__CalendlyAction__c"])
    assert report["layouts_patched"] == ["Event-Event Layout"]
    assert (report["component_failures"], report["tests_run"]) == ([], 0)
    assert org_state(local) == before
    assert before[0] == []  # a first install: no flow yet, still none
    assert not local.org.describe("Calendly__CalendlyAction__c").has("Sync_Status__c")


def test_run_specified_tests_is_refused_plainly_by_the_local_org(project_config, cci_org, local):
    before = org_state(local)
    with pytest.raises(ValidationFailed) as failed:
        validate(project_config, cci_org, local)
    message = str(failed.value)
    assert message.startswith("Validation failed on org local (Failed): NOT_IMPLEMENTED: "
                              "testLevel RunSpecifiedTests runs Apex tests, and localorg has "
                              "no Apex runtime")
    assert "ApexClass CalendlyScenariosTest: Error: Metadata type ApexClass is not supported" \
        in message
    assert message.endswith("Nothing was saved.")
    assert org_state(local) == before


def test_bad_test_level_is_named(project_config, cci_org, local):
    with pytest.raises(TaskOptionsError, match="choose one of RunSpecifiedTests"):
        validate(project_config, cci_org, local, test_level="RunEverything")
    assert ValidateSetup.__doc__ and "stock" in ValidateSetup.__doc__
