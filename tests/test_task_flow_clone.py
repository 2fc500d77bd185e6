"""calendly_clone_flow: "Save As" of the template, idempotence, collisions, failures, dry run."""

from pathlib import Path

import pytest
from cumulusci.core.exceptions import TaskOptionsError
from lxml import etree

from metacheck.schema import validate
from tasks.flow_clone import CloneFlow, FlowCloneError
from tests.fixtures.tasks.task_fake_org import MD, flow_xml, make_task

FIXTURES = Path(__file__).parent / "fixtures" / "tasks"

TEMPLATE = (FIXTURES / "Calendly__CreateEventTemplate.flow").read_bytes()
OPTIONS = {"target": "Calendly_Participant_Sync", "label": "Calendly Participant Sync"}


@pytest.fixture
def org(fake_org):
    fake_org.add_flow("Calendly__CreateEventTemplate", [TEMPLATE], active=1)
    return fake_org


def run(**options):
    task = make_task(CloneFlow, {**OPTIONS, **options})
    task()
    return task


def child(xml, tag):
    return etree.fromstring(xml).findtext(f"{{{MD}}}{tag}")


def test_first_run_deploys_a_draft_copy_and_leaves_the_template(org):
    task = run()
    assert task.return_values == {
        "target": "Calendly_Participant_Sync", "source": "Calendly__CreateEventTemplate",
        "action": "created", "would_action": None, "dry_run": False}
    copy = org.flows["Calendly_Participant_Sync"]["versions"][-1]
    assert child(copy, "label") == "Calendly Participant Sync"
    assert child(copy, "interviewLabel") == "Calendly Participant Sync {!$Flow.CurrentDateTime}"
    assert child(copy, "description") == "Save As copy of Calendly__CreateEventTemplate."
    assert child(copy, "status") == "Draft"
    assert child(copy, "isTemplate") is None
    # The logic is the template's: same start and subflow call.
    assert child(copy, "processType") == "AutoLaunchedFlow"
    assert b"<flowName>Calendly__Create_Event_Template</flowName>" in copy
    assert org.flows["Calendly_Participant_Sync"]["active"] == 0
    # Template untouched: still one version, and only the copy was in the deploy.
    assert org.flows["Calendly__CreateEventTemplate"]["versions"] == [TEMPLATE]
    assert len(org.write_calls(org.mock.calls)) == 1
    # The copy is valid against the Metadata API schema (XSD order kept).
    assert validate(copy, "Flow") == []


def test_rerun_makes_no_write_even_after_activation(org):
    run()
    org.flows["Calendly_Participant_Sync"]["active"] = 1
    org.flows["Calendly_Participant_Sync"]["versions"][-1] = org.flows["Calendly_Participant_Sync"][
        "versions"
    ][-1].replace(b"<status>Draft</status>", b"<status>Active</status>")
    task = run()
    assert task.return_values["action"] == "unchanged"
    assert len(org.write_calls(org.mock.calls)) == 1  # the first run only
    assert len(org.flows["Calendly_Participant_Sync"]["versions"]) == 1


def test_explicit_status_is_honoured_and_compared(org):
    run(status="Active")
    assert org.flows["Calendly_Participant_Sync"]["active"] == 1
    assert run(status="Active").return_values["action"] == "unchanged"
    with pytest.raises(FlowCloneError, match="already exists"):
        run(status="Draft")


def test_name_collision_without_overwrite_is_an_error(org):
    org.add_flow("Calendly_Participant_Sync", [flow_xml("Someone else's flow")])
    with pytest.raises(FlowCloneError) as err:
        run()
    assert "Flow Calendly_Participant_Sync already exists in org test with other content" in str(
        err.value
    )
    assert "overwrite: True" in str(err.value)
    assert org.write_calls(org.mock.calls) == []
    assert len(org.flows["Calendly_Participant_Sync"]["versions"]) == 1


def test_name_collision_with_overwrite_deploys_a_new_version(org):
    org.add_flow("Calendly_Participant_Sync", [flow_xml("Old copy")])
    task = run(overwrite="True")
    assert task.return_values["action"] == "overwritten"
    versions = org.flows["Calendly_Participant_Sync"]["versions"]
    assert len(versions) == 2 and child(versions[-1], "label") == "Calendly Participant Sync"


def test_missing_template_is_a_clear_error(org):
    del org.flows["Calendly__CreateEventTemplate"]
    with pytest.raises(FlowCloneError) as err:
        run()
    assert ("Source flow Calendly__CreateEventTemplate was not found in org test: the Calendly "
            "package is not installed. Install it") in str(err.value)
    assert "source_file" in str(err.value)
    assert org.write_calls(org.mock.calls) == []


def test_missing_template_with_the_package_installed_does_not_say_upgrade(org):
    """Issue 10: the message said to install or upgrade a package that was installed."""
    del org.flows["Calendly__CreateEventTemplate"]
    org.install_package("Calendly", "2.5")
    with pytest.raises(FlowCloneError) as err:
        run()
    message = str(err.value)
    assert ("Source flow Calendly__CreateEventTemplate was not found in org test, although the "
            "Calendly package 2.5 is installed. Find the template's API name in Setup > Flows "
            "and pass it with -o calendly_clone_flow__source <name>") in message
    assert "upgrade" not in message.lower() and "install it" not in message.lower()


def test_source_file_copies_a_local_flow(org):
    del org.flows["Calendly__CreateEventTemplate"]
    task = run(source_file=str(FIXTURES / "Calendly__CreateEventTemplate.flow"))
    assert task.return_values["action"] == "created"
    assert "Calendly_Participant_Sync" in org.flows


def test_dry_run_retrieves_but_never_deploys(org):
    task = run(dry_run="true")
    assert (task.return_values["action"], task.return_values["would_action"]) == (None, "create")
    assert org.write_calls(org.mock.calls) == []
    assert "Calendly_Participant_Sync" not in org.flows


def test_deploy_refused_by_the_org_leaves_nothing_and_can_be_rerun(org):
    org.fail_next(
        "deploy_result",
        ("Flow", "Calendly_Participant_Sync", "The flow's subflow is missing."),
    )
    with pytest.raises(FlowCloneError, match="nothing was saved.*The flow's subflow is missing."):
        run()
    assert "Calendly_Participant_Sync" not in org.flows
    assert run().return_values["action"] == "created"


def test_http_500_on_deploy_leaves_nothing_and_can_be_rerun(org):
    org.fail_next("deploy", (500, {}, "<html>Internal Server Error</html>"))
    with pytest.raises(FlowCloneError, match="HTTP ERROR 500"):
        run()
    assert "Calendly_Participant_Sync" not in org.flows
    assert run().return_values["action"] == "created"


def test_invalid_source_xml_is_reported(org, tmp_path):
    bad = tmp_path / "Bad.flow-meta.xml"
    bad.write_text("<Flow><oops></Flow>")
    with pytest.raises(FlowCloneError, match="not valid XML"):
        run(source_file=str(bad))
    layout = tmp_path / "Layout.xml"
    layout.write_text(f'<Layout xmlns="{MD}"/>')
    with pytest.raises(FlowCloneError, match="not a Flow metadata file"):
        run(source_file=str(layout))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"target": "1bad"}, "not a valid flow API name"),
        ({"target": "two__underscores__x"}, "not a valid flow API name"),
        ({"target": "Ns__Copy"}, "has a namespace prefix"),
        ({"target": "trailing_"}, "not a valid flow API name"),
        ({"target": "Calendly__CreateEventTemplate"}, "has a namespace prefix"),
        ({"label": ""}, "label must be 1 to 255 characters"),
        ({"label": "x" * 256}, "label must be 1 to 255 characters"),
        ({"source_file": "/nonexistent.flow"}, "does not exist"),
        ({"status": "Obsolete"}, "status"),
        ({"source": "CreateEventTemplate", "target": "CreateEventTemplate"}, "must differ"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(TaskOptionsError, match=message):
        make_task(CloneFlow, {**OPTIONS, **options})
