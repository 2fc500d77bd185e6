"""calendly_activate_flow: strict names, bool parsing, verify, restore, idempotence, dry run."""

import json

import pytest
from cumulusci.core.exceptions import TaskOptionsError

from tasks.flow_activation import ActivateFlow, FlowActivationError
from tests.fixtures.tasks.task_fake_org import flow_xml, make_task, sf_error

V1, V2, V3 = (flow_xml(f"Sync v{n}") for n in (1, 2, 3))


@pytest.fixture
def org(fake_org):
    fake_org.add_flow("CreateEventTemplate", [V1, V2, V3], active=1)
    fake_org.add_flow("Calendly__CreateEventTemplate", [V1], active=0)
    return fake_org


def run(options):
    task = make_task(ActivateFlow, options)
    task()
    return task


def writes(org):
    return org.write_calls(org.mock.calls)


def bodies(org):
    return [json.loads(call.request.body) for call in writes(org)]


def test_activates_latest_version_and_verifies(org):
    task = run({"developer_name": "CreateEventTemplate"})
    assert org.flows["CreateEventTemplate"]["active"] == 3
    assert task.return_values == {
        "developer_name": "CreateEventTemplate",
        "previous_version": 1,
        "active_version": 3,
        "changed": True,
        "would_change_to": None,
        "dry_run": False,
    }
    assert len(writes(org)) == 1
    # The PATCH carries exactly the documented body.
    assert bodies(org) == [{"Metadata": {"activeVersionNumber": 3}}]


def test_rerun_makes_no_write(org):
    run({"developer_name": "CreateEventTemplate"})
    calls_before = len(org.mock.calls)
    task = run({"developer_name": "CreateEventTemplate"})
    assert task.return_values["changed"] is False
    assert len(writes(org)) == 1  # only the first run wrote
    assert len(org.mock.calls) == calls_before + 1  # one read


def test_given_version(org):
    run({"developer_name": "CreateEventTemplate", "version": "2"})
    assert org.flows["CreateEventTemplate"]["active"] == 2


def test_version_beyond_latest_is_an_error_and_writes_nothing(org):
    with pytest.raises(FlowActivationError, match="has no version 7; its latest version is 3"):
        run({"developer_name": "CreateEventTemplate", "version": 7})
    assert writes(org) == []


@pytest.mark.parametrize("false", ["False", "false", False, "0", "no"])
def test_active_false_string_deactivates(org, false):
    run({"developer_name": "CreateEventTemplate", "active": false})
    assert org.flows["CreateEventTemplate"]["active"] == 0
    assert bodies(org) == [{"Metadata": {"activeVersionNumber": 0}}]


def test_missing_flow_is_an_error_not_a_warning(org):
    with pytest.raises(FlowActivationError, match="Flow Nope does not exist in org test"):
        run({"developer_name": "Nope"})
    assert writes(org) == []


def test_namespaced_name_targets_the_package_flow(org):
    run({"developer_name": "Calendly__CreateEventTemplate"})
    assert org.flows["Calendly__CreateEventTemplate"]["active"] == 1
    assert org.flows["CreateEventTemplate"]["active"] == 1  # the unnamespaced one untouched


def test_namespace_option_applies_to_a_bare_name(org):
    run({"developer_name": "CreateEventTemplate", "namespace": "Calendly"})
    assert org.flows["Calendly__CreateEventTemplate"]["active"] == 1
    query = org.mock.calls[-1].request.url
    assert "NamespacePrefix+%3D+%27Calendly%27" in query


def test_dry_run_writes_nothing(org):
    task = run({"developer_name": "CreateEventTemplate", "dry_run": "True"})
    assert task.return_values["would_change_to"] == 3
    assert writes(org) == []
    assert org.flows["CreateEventTemplate"]["active"] == 1


def test_org_refusal_leaves_previous_version_active(org):
    # Salesforce REST error body for a refused update (errorcodes.htm shape).
    org.fail_next(
        "patch",
        sf_error(400, "FIELD_INTEGRITY_EXCEPTION", "This flow version can't be activated."),
    )
    with pytest.raises(FlowActivationError) as err:
        run({"developer_name": "CreateEventTemplate"})
    message = str(err.value)
    assert "FIELD_INTEGRITY_EXCEPTION: This flow version can't be activated." in message
    assert "still version 1 active" in message
    assert org.flows["CreateEventTemplate"]["active"] == 1
    assert len(writes(org)) == 1  # the refused PATCH; no restore needed


def test_http_500_after_the_change_is_rolled_back(org):
    org.fail_next(
        "patch",
        sf_error(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred."),
        applied=True,
    )
    with pytest.raises(FlowActivationError, match="Restored: the flow is version 1 active again"):
        run({"developer_name": "CreateEventTemplate"})
    assert org.flows["CreateEventTemplate"]["active"] == 1
    assert bodies(org) == [
        {"Metadata": {"activeVersionNumber": 3}},
        {"Metadata": {"activeVersionNumber": 1}},
    ]
    # And the state is re-runnable: the next run activates normally.
    run({"developer_name": "CreateEventTemplate"})
    assert org.flows["CreateEventTemplate"]["active"] == 3


def test_failed_check_after_a_successful_patch_restores(org):
    # The PATCH works; the verifying read gets a 500, then the org answers again.
    org.fail_next(
        "query_flowdefinition", sf_error(500, "UNKNOWN_EXCEPTION", "Read failed."), after=1
    )
    with pytest.raises(FlowActivationError) as err:
        run({"developer_name": "CreateEventTemplate"})
    assert "UNKNOWN_EXCEPTION: Read failed." in str(err.value)
    assert "Restored: the flow is version 1 active again." in str(err.value)
    assert org.flows["CreateEventTemplate"]["active"] == 1


def test_failed_first_read_is_a_task_failure_and_writes_nothing(org):
    org.fail_next("query_flowdefinition", sf_error(400, "INVALID_TYPE", "No such column."))
    with pytest.raises(FlowActivationError, match="Could not read flow CreateEventTemplate") as err:
        run({"developer_name": "CreateEventTemplate"})
    assert "INVALID_TYPE: No such column. Nothing was changed" in str(err.value)
    assert org.write_calls(org.mock.calls) == []


def test_silent_non_activation_fails_verification(org):
    org.ignore_activation = True
    with pytest.raises(FlowActivationError, match="should be version 3 active but the org reports"):
        run({"developer_name": "CreateEventTemplate"})
    assert org.flows["CreateEventTemplate"]["active"] == 1


def test_unreachable_org_during_restore_says_rerun(org):
    org.fail_next("patch", sf_error(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred."))
    # The first read works; the re-read after the failed PATCH fails too (a 500: cci's
    # client retries 502/503/504 itself).
    org.fail_next(
        "query_flowdefinition", sf_error(500, "UNKNOWN_EXCEPTION", "Read failed."), after=1
    )
    with pytest.raises(FlowActivationError) as err:
        run({"developer_name": "CreateEventTemplate"})
    assert "Read failed." in str(err.value)
    assert "Re-run this task: it is safe to repeat" in str(err.value)
    assert org.flows["CreateEventTemplate"]["active"] == 1
    run({"developer_name": "CreateEventTemplate"})
    assert org.flows["CreateEventTemplate"]["active"] == 3


@pytest.mark.parametrize(
    "options, message",
    [
        ({"developer_name": "Bad Name"}, "developer_name 'Bad Name' is not a valid flow API name"),
        ({"developer_name": "Calendly__Two__Prefixes"}, "not a valid flow API name"),
        ({"developer_name": "Trailing_"}, "not a valid flow API name"),
        ({"developer_name": "X", "version": 0}, "version must be 1 or more"),
        ({"developer_name": "X", "version": 2, "active": False}, "cannot be combined"),
        ({"developer_name": "X", "active": "maybe"}, "active"),
        ({}, "developer_name"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(TaskOptionsError, match=message):
        make_task(ActivateFlow, options)
