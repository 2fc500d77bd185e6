"""calendly_deploy_flows: deploys only new or changed flows, so a re-run makes no version."""

import shutil
from pathlib import Path

import pytest
from cumulusci.core.exceptions import TaskOptionsError

from tasks.flow_deploy import DeployChangedFlows, FlowDeployError
from tests.fixtures.tasks.task_fake_org import make_task

ROOT = Path(__file__).resolve().parents[1]

FLOWS = sorted(p.name.split(".")[0] for p in (ROOT / "flows").glob("*.flow-meta.xml"))


@pytest.fixture
def org(fake_org):
    return fake_org


def run(path=ROOT / "flows", **options):
    task = make_task(DeployChangedFlows, {"path": str(path), **options})
    task()
    return task


def test_project_has_the_three_flows():
    assert FLOWS == [
        "CreateEventTemplate",
        "Create_Event_Participant_Template",
        "Create_Event_Template",
    ]


def test_first_run_deploys_all_in_one_deploy_rerun_deploys_nothing(org):
    assert run().return_values == {"deployed": FLOWS, "unchanged": [], "would_deploy": [],
                                   "dry_run": False}
    assert len(org.write_calls(org.mock.calls)) == 1
    assert {name: len(org.flows[name]["versions"]) for name in FLOWS} == dict.fromkeys(FLOWS, 1)
    assert run().return_values == {"deployed": [], "unchanged": FLOWS, "would_deploy": [],
                                   "dry_run": False}
    assert len(org.write_calls(org.mock.calls)) == 1
    assert {name: len(org.flows[name]["versions"]) for name in FLOWS} == dict.fromkeys(FLOWS, 1)


def test_activation_after_deploy_does_not_count_as_a_change(org):
    run()
    flow = org.flows["CreateEventTemplate"]
    flow["versions"][-1] = flow["versions"][-1].replace(
        b"<status>Draft</status>", b"<status>Active</status>"
    )
    flow["active"] = 1
    assert run().return_values["deployed"] == []


def test_only_the_changed_flow_is_deployed(org, tmp_path):
    run()
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    changed = tmp_path / "flows" / "Create_Event_Template.flow-meta.xml"
    changed.write_bytes(
        changed.read_bytes().replace(
            b"<apiVersion>63.0</apiVersion>", b"<apiVersion>62.0</apiVersion>", 1
        )
    )
    task = run(tmp_path / "flows")
    assert task.return_values["deployed"] == ["Create_Event_Template"]
    assert len(org.flows["Create_Event_Template"]["versions"]) == 2
    assert len(org.flows["CreateEventTemplate"]["versions"]) == 1


def test_dry_run_writes_nothing(org):
    task = run(dry_run=True)
    assert task.return_values["would_deploy"] == FLOWS
    assert org.write_calls(org.mock.calls) == []
    assert org.flows == {}


def test_refused_deploy_saves_nothing_and_is_rerunnable(org):
    org.fail_next(
        "deploy_result",
        ("Flow", "CreateEventTemplate", "Field Calendly__EventGuestEmails__c does not exist."),
    )
    with pytest.raises(FlowDeployError) as err:
        run()
    assert "nothing was saved" in str(err.value)
    assert "Calendly__EventGuestEmails__c does not exist" in str(err.value)
    assert org.flows == {}
    assert run().return_values["deployed"] == FLOWS


def test_http_500_mid_run_is_rerunnable(org):
    org.fail_next("deploy", (500, {}, "<html>Internal Server Error</html>"))
    with pytest.raises(FlowDeployError, match="HTTP ERROR 500"):
        run()
    assert org.flows == {}
    assert run().return_values["deployed"] == FLOWS


def test_bad_flow_file_is_named(org, tmp_path):
    (tmp_path / "Broken.flow-meta.xml").write_text("<Flow><unclosed></Flow>")
    with pytest.raises(FlowDeployError, match="Broken.flow-meta.xml is not valid XML"):
        run(tmp_path)
    (tmp_path / "Broken.flow-meta.xml").write_text(
        '<Layout xmlns="http://soap.sforce.com/2006/04/metadata"/>'
    )
    with pytest.raises(FlowDeployError, match="is not a Flow metadata file"):
        run(tmp_path)


def test_bad_path(tmp_path):
    with pytest.raises(TaskOptionsError, match="is not a folder"):
        make_task(DeployChangedFlows, {"path": str(tmp_path / "missing")})
    with pytest.raises(TaskOptionsError, match="No flow files"):
        make_task(DeployChangedFlows, {"path": str(tmp_path)})
