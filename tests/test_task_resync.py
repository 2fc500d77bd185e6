"""calendly_resync on a set-up local org: recreates exactly the missing Events, through the
REST invocable-flow endpoint, and a second run writes nothing."""

import pytest
from cumulusci.core.config import TaskConfig
from cumulusci.core.exceptions import TaskOptionsError
from cumulusci.core.flowrunner import FlowCoordinator
from simple_salesforce import Salesforce

from localorg import calendly
from tasks.resync import Resync

BOOKING = "Calendly__CalendlyAction__c"


def booking(uuid, guests="", kind="OneOnOne", name="invitee.created"):
    return {
        "Name": name, "Calendly__InviteeUuid__c": uuid,
        "Calendly__InviteeEmail__c": "primary@example.com",
        "Calendly__EventStartTime__c": "2026-12-01T10:00:00.000Z",
        "Calendly__EventEndTime__c": "2026-12-01T10:30:00.000Z",
        "Calendly__EventSubject__c": f"Meeting {uuid}", "Calendly__EventTypeKind__c": kind,
        "Calendly__EventGuestEmails__c": guests,
    }


@pytest.fixture
def set_up(serve_org, project_config, cci_org):
    live = serve_org(calendly.local_org())
    coordinator = FlowCoordinator(project_config, project_config.get_flow("calendly_setup"))
    coordinator.run(cci_org(live))
    sf = Salesforce(instance_url=live.url, session_id=live.token, version="63.0")
    sf.Contact.create({"LastName": "Lee", "Email": "ann@example.com"})
    return live, sf


def run(project_config, cci_org, live, **options):
    task = Resync(project_config, TaskConfig({"options": options}), cci_org(live))
    task()
    return task.return_values


def events(sf):
    return {r["Calendly__InviteeUuid__c"]: r["Id"] for r in sf.query_all(
        "SELECT Id, Calendly__InviteeUuid__c FROM Event")["records"]}


def test_resync_recreates_exactly_the_deleted_events_then_writes_nothing(
    set_up, project_config, cci_org
):
    live, sf = set_up
    for n in range(5):
        sf.__getattr__(BOOKING).create(booking(f"u{n}", guests="ann@example.com"))
    before = events(sf)
    assert sorted(before) == [f"u{n}" for n in range(5)]
    for uuid in ("u1", "u3"):
        sf.Event.delete(before[uuid])

    dry = run(project_config, cci_org, live, dry_run=True)
    assert [row["uuid"] for row in dry["would_sync"]] == ["u1", "u3"]
    assert dry["synced"] == [] and dry["calls"] == 0
    assert sorted(events(sf)) == ["u0", "u2", "u4"]

    calls_before = sum(live.app.calls.values())
    first = run(project_config, cci_org, live)
    assert first["would_sync"] == [] and first["failed"] == [] and first["calls"] == 1
    assert [(row["uuid"], row["status"]) for row in first["synced"]] == [
        ("u1", "Synced"), ("u3", "Synced")]
    assert [{k: row[k] for k in dry["would_sync"][0]} for row in first["synced"]] == dry[
        "would_sync"]
    assert sorted(first) == sorted(dry)
    after = events(sf)
    assert sorted(after) == [f"u{n}" for n in range(5)]
    assert {u: after[u] for u in ("u0", "u2", "u4")} == {u: before[u] for u in ("u0", "u2", "u4")}
    for uuid in ("u1", "u3"):
        relations = sf.query(f"SELECT Relation.Name FROM EventRelation WHERE EventId = "
                             f"'{after[uuid]}' AND IsInvitee = true")["records"]
        assert [r["Relation"]["Name"] for r in relations] == ["Lee"]
    first_calls = sum(live.app.calls.values()) - calls_before

    counted = dict(live.app.calls)
    second = run(project_config, cci_org, live)
    assert second["would_sync"] == second["synced"] == [] and second["calls"] == 0
    new = {k: v - counted.get(k, 0) for k, v in live.app.calls.items() if v != counted.get(k, 0)}
    assert all(route.startswith("GET ") for route in new), new  # reads only
    print(f"resync: first run {first_calls} API calls, second run {sum(new.values())}")


def test_a_booking_made_before_the_setup_is_backfilled(serve_org, project_config, cci_org):
    live = serve_org(calendly.local_org())
    sf = Salesforce(instance_url=live.url, session_id=live.token, version="63.0")
    sf.__getattr__(BOOKING).create(booking("early"))  # no flows yet: no Event
    FlowCoordinator(project_config, project_config.get_flow("calendly_setup")).run(cci_org(live))
    result = run(project_config, cci_org, live)
    assert [row["reason"] for row in result["synced"]] == ["no Event, never synced"]
    assert list(events(sf)) == ["early"]


@pytest.mark.parametrize("options, says", [
    ({"since": "2026-13-01"}, "since '2026-13-01' is not a date: use YYYY-MM-DD"),
    ({"since": "2026-12-02", "until": "2026-12-01"}, "since 2026-12-02 is after until"),
    ({"batch_size": 201}, "batch_size must be 1 to 200, not 201"),
])
def test_bad_options_are_named(project_config, cci_org, local_org, options, says):
    with local_org("2.5") as live:
        with pytest.raises(TaskOptionsError, match=says):
            run(project_config, cci_org, live, **options)
