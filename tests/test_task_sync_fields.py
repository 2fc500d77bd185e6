"""calendly_deploy_sync_fields: deploys the booking outcome fields only when one is missing."""

from pathlib import Path

import pytest
from cumulusci.core.exceptions import TaskOptionsError

from tasks.sync_fields import DeploySyncFields, source_fields
from tests.fixtures.tasks.task_fake_org import make_task

ROOT = Path(__file__).resolve().parents[1]
OBJECTS = ROOT / "force-app" / "main" / "default" / "objects"
PERMS = ROOT / "force-app" / "main" / "default" / "permissionsets"
BOOKING = "Calendly__CalendlyAction__c"


@pytest.fixture
def org(fake_org):
    return fake_org


def run(**options):
    task = make_task(DeploySyncFields, {"path": str(OBJECTS), **options})
    task()
    return task


def test_the_project_declares_the_outcome_fields():
    assert source_fields(OBJECTS) == {BOOKING: [
        "Sync_Error__c", "Sync_Status__c", "Unmatched_Guest_Count__c",
        "Unmatched_Guest_Emails__c"]}


def test_org_with_every_field_gets_no_deploy(org):
    assert run().return_values == {"missing": [], "deployed": [], "would_deploy": [],
                                   "dry_run": False}
    assert org.write_calls(org.mock.calls) == []


def test_a_missing_field_deploys_them_in_one_deploy(org):
    org.fields[BOOKING] = [f for f in org.fields[BOOKING] if f != "Sync_Status__c"]
    assert run().return_values == {"missing": [f"{BOOKING}.Sync_Status__c"],
                                   "deployed": [f"{BOOKING}.Sync_Status__c"],
                                   "would_deploy": [], "dry_run": False}
    assert len(org.write_calls(org.mock.calls)) == 1


def test_dry_run_names_the_missing_fields_and_deploys_nothing(org):
    org.fields[BOOKING] = [f for f in org.fields[BOOKING] if f != "Sync_Status__c"]
    assert run(dry_run=True).return_values == {
        "missing": [f"{BOOKING}.Sync_Status__c"], "deployed": [],
        "would_deploy": [f"{BOOKING}.Sync_Status__c"], "dry_run": True}
    assert org.write_calls(org.mock.calls) == []


@pytest.mark.parametrize("options, says", [
    ({"path": "nowhere"}, "path nowhere holds no <Object>/fields/"),
    ({"path": "flows"}, "path flows holds no <Object>/fields/"),
    ({"dry_run": "maybe"}, "dry_run 'maybe': give True or False"),
])
def test_bad_options_are_named(org, options, says):
    with pytest.raises(TaskOptionsError, match=says):
        run(**options)


def test_an_org_without_the_booking_object_misses_every_field(org):
    del org.fields[BOOKING]
    assert run(dry_run=True).return_values["would_deploy"] == [
        f"{BOOKING}.{name}" for name in source_fields(OBJECTS)[BOOKING]]
    assert org.write_calls(org.mock.calls) == []


def test_a_missing_permission_set_is_deployed_alone(org):
    org.permission_sets = set()
    task = make_task(DeploySyncFields, {"path": str(OBJECTS), "permission_sets": str(PERMS)})
    task()
    assert task.return_values["deployed"] == ["PermissionSet:Calendly_Participant_Sync"]
    assert len(org.write_calls(org.mock.calls)) == 1


def test_a_permission_sets_folder_without_one_is_named(org):
    with pytest.raises(TaskOptionsError, match="permission_sets flows holds no "):
        run(permission_sets="flows")


def test_setup_deploys_the_missing_permission_set_then_assigns_it(project_config, org):
    from cumulusci.core.flowrunner import FlowCoordinator

    from tests.fixtures.tasks import task_fake_org

    org.install_package("Calendly", "2.5")
    org.layouts["Event-Event Layout"] = task_fake_org.event_layouts()[0]
    org.permission_sets = set()
    FlowCoordinator(project_config, project_config.get_flow("calendly_setup")).run(
        task_fake_org.org_config(project_config))
    assert org.permission_sets == {"Calendly_Participant_Sync"}
    assert org.assigned == {"Calendly_Participant_Sync"}


def test_assignment_dry_run_queries_and_writes_nothing(org):
    from tasks.permission_sets import AssignPermissionSetsDryRun

    task = make_task(AssignPermissionSetsDryRun,
                     {"api_names": "Calendly_Participant_Sync", "dry_run": True})
    task()
    assert task.return_values == {"api_names": ["Calendly_Participant_Sync"], "dry_run": True}
    assert len(org.mock.calls) == 0  # not even the queries
    assert org.assigned == set()
