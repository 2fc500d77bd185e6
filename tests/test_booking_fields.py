"""The project's outcome fields on the booking, as the local org defines them from force-app."""

import pytest

from localorg.calendly import BOOKING, ROOT, local_org
from localorg.errors import SalesforceError


@pytest.fixture
def org():
    org = local_org(run_flows=False)  # no flow: the booking keeps what the insert gave it
    org.install_source(ROOT / "force-app" / "main" / "default")
    return org


def test_a_new_booking_is_pending_until_the_sync_writes_its_outcome(org):
    with org.transaction() as txn:
        [booking_id] = txn.insert(BOOKING, [{"Name": "invitee.created"}])
        row = txn.retrieve(BOOKING, booking_id)
    assert row["Sync_Status__c"] == "Pending"  # the picklist's default value
    assert row["Unmatched_Guest_Count__c"] is None


def test_the_status_is_a_restricted_picklist(org):
    with org.transaction() as txn, pytest.raises(SalesforceError) as exc:
        txn.insert(BOOKING, [{"Name": "invitee.created", "Sync_Status__c": "Done"}])
    assert exc.value.code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
