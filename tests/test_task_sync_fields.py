"""calendly_deploy_sync_fields: deploys the booking outcome fields only when one is missing."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "tasks"))
from task_fake_org import make_task, serving  # noqa: E402

from tasks.sync_fields import DeploySyncFields, source_fields  # noqa: E402

OBJECTS = ROOT / "force-app" / "main" / "default" / "objects"
BOOKING = "Calendly__CalendlyAction__c"


@pytest.fixture
def org():
    with serving() as fake:
        yield fake


def run():
    task = make_task(DeploySyncFields, {"path": str(OBJECTS)})
    task()
    return task


def test_the_project_declares_the_outcome_fields():
    assert source_fields(OBJECTS) == {BOOKING: [
        "Sync_Error__c", "Sync_Status__c", "Unmatched_Guest_Count__c",
        "Unmatched_Guest_Emails__c"]}


def test_org_with_every_field_gets_no_deploy(org):
    assert run().return_values == {"missing": [], "deployed": False}
    assert org.write_calls(org.mock.calls) == []


def test_a_missing_field_deploys_them_in_one_deploy(org):
    org.fields[BOOKING] = [f for f in org.fields[BOOKING] if f != "Sync_Status__c"]
    assert run().return_values == {"missing": [f"{BOOKING}.Sync_Status__c"], "deployed": True}
    assert len(org.write_calls(org.mock.calls)) == 1
