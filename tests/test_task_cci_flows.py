"""cumulusci.yml: every project task is documented; calendly_setup runs end to end, twice."""

from pathlib import Path

import pytest
import yaml
from cumulusci.core.config import OrgConfig
from cumulusci.core.flowrunner import FlowCoordinator

from tests.fixtures.tasks import task_fake_org
from tests.fixtures.tasks.task_fake_org import event_layouts

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "tasks"

# Every task cumulusci.yml declares (stock CumulusCI's tasks come on top in project_config).
PROJECT_TASKS = list(yaml.safe_load((ROOT / "cumulusci.yml").read_text())["tasks"])


def steps(project_config, flow_name):
    coordinator = FlowCoordinator(project_config, project_config.get_flow(flow_name))
    return {step.step_num.__str__(): step for step in coordinator.steps}


def test_project_tasks_are_documented_and_importable(project_config):
    assert "calendly_resync" in PROJECT_TASKS  # read from the file: the loop is not empty
    for name in PROJECT_TASKS:
        task = project_config.get_task(name)
        assert task.description and task.group == "Calendly Sync", name
        if task.class_path.startswith("cumulusci."):
            continue  # a stock task with the project's options: no class of its own
        assert task.class_path.startswith("tasks."), name
        task_class = task.get_class()
        assert task_class.__doc__ and "stock" in task_class.__doc__.lower(), name


def test_dev_org_ends_with_flow_active_and_layout_patched(project_config):
    config_dev = [
        (str(step.step_num), step.task_name, step.task_config["options"].get("developer_name"))
        for step in FlowCoordinator(project_config, project_config.get_flow("dev_org")).steps
        if str(step.step_num).startswith("3/")
    ]
    assert config_dev == [
        ("3/0.5", "calendly_preflight", None),
        ("3/0.6", "calendly_assign_permission_set", None),  # real orgs only (see below)
        ("3/1", "deploy_post", None),  # stock steps kept, in place
        ("3/2", "update_admin_profile", None),
        ("3/2.1", "calendly_deploy_flows", None),
        # the subflows before the record-triggered flow that calls them
        ("3/2.2", "calendly_activate_flow", "Create_Event_Participant_Template"),
        ("3/2.3", "calendly_activate_flow", "Create_Event_Template"),
        ("3/2.4", "calendly_activate_flow", "CreateEventTemplate"),
        ("3/2.5", "calendly_patch_event_layout", None),
        ("3/90", "load_sample_data", None),  # data (and bookings) only after activation
    ]


def test_setup_flows_activate_every_called_subflow_before_its_caller(project_config):
    from lxml import etree

    md = "{http://soap.sforce.com/2006/04/metadata}"
    calls = {
        path.name.split(".")[0]: [e.text for e in etree.parse(str(path)).iter(f"{md}flowName")]
        for path in (ROOT / "flows").glob("*.flow-meta.xml")
    }
    assert calls["CreateEventTemplate"] == ["Create_Event_Template"]
    assert calls["Create_Event_Template"] == ["Create_Event_Participant_Template"]
    for flow_name in ("calendly_setup", "dev_org"):
        activated = [
            step.task_config["options"]["developer_name"]
            for step in FlowCoordinator(project_config, project_config.get_flow(flow_name)).steps
            if step.task_name == "calendly_activate_flow"
            and not step.task_config["options"]["developer_name"].startswith("^^")
        ]
        for caller, subflows in calls.items():
            if caller not in activated:
                continue
            for subflow in subflows:
                assert subflow in activated, (flow_name, subflow)
                assert activated.index(subflow) < activated.index(caller), (flow_name, subflow)


@pytest.mark.parametrize("flow, num, task_name", [
    ("dev_org", "2/1", "unschedule_apex"),
    ("calendly_setup", "1.6", "calendly_assign_permission_set"),
    ("dev_org", "3/0.6", "calendly_assign_permission_set"),
])
def test_steps_the_local_org_cannot_serve_are_skipped_there_only(project_config, flow, num,
                                                                 task_name):
    from cumulusci.core.flowrunner import jinja2_env

    step = steps(project_config, flow)[num]
    assert step.task_name == task_name
    when = jinja2_env.compile_expression(step.when)
    for url in ("https://127.0.0.1:8765", "http://127.0.0.1:8765"):
        local = OrgConfig({"instance_url": url}, "local")
        assert not when(project_config=project_config, org_config=local)
    for url in ("https://acme.my.salesforce.com", "https://127.0.0.1.example.com"):
        real = OrgConfig({"instance_url": url}, "sandbox")
        assert when(project_config=project_config, org_config=real)


@pytest.fixture
def org(fake_org):
    return fake_org


def test_calendly_setup_clone_end_to_end_and_rerun_writes_nothing(project_config, org):
    template = (FIXTURES / "Calendly__CreateEventTemplate.flow").read_bytes()
    org.install_package("Calendly", "2.6")
    org.add_flow("Calendly__CreateEventTemplate", [template], active=1)
    org.layouts["Event-Event Layout"] = event_layouts()[0]

    flow = project_config.get_flow("calendly_setup_clone")
    first = FlowCoordinator(project_config, flow)
    first.run(task_fake_org.org_config(project_config))
    ran = [result.task_name for result in first.results]
    assert ran == [
        "calendly_preflight",
        "calendly_clone_flow",
        "calendly_activate_flow",
        "calendly_patch_event_layout",
    ]
    preflight = first.results[0].return_values
    other = [row for row in preflight["checks"] if row["check"].startswith("Other flows on")]
    assert other[0]["state"] == "warning" and "Calendly__CreateEventTemplate" in other[0]["detail"]
    assert org.flows["Calendly_Participant_Sync"]["active"] == 1  # wired via ^^ return value
    assert org.flows["Calendly__CreateEventTemplate"]["versions"] == [template]
    assert b"<field>Attendees</field>" in org.layouts["Event-Event Layout"]
    writes_after_first = len(org.write_calls(org.mock.calls))
    assert writes_after_first == 3  # deploy copy, PATCH activation, deploy layout

    second = FlowCoordinator(project_config, project_config.get_flow("calendly_setup_clone"))
    second.run(task_fake_org.org_config(project_config))
    assert len(org.write_calls(org.mock.calls)) == writes_after_first
    assert second.results[1].return_values["action"] == "unchanged"


def test_calendly_setup_clone_first_install_dry_run_completes_and_writes_nothing(
        project_config, org, caplog):
    """The activation step activates the copy the clone step would make, though the org has
    no such flow yet."""
    caplog.set_level("INFO")
    template = (FIXTURES / "Calendly__CreateEventTemplate.flow").read_bytes()
    org.install_package("Calendly", "2.6")
    org.add_flow("Calendly__CreateEventTemplate", [template], active=1)
    org.layouts["Event-Event Layout"] = event_layouts()[0]
    options = {task: {"dry_run": True} for task in (
        "calendly_clone_flow", "calendly_activate_flow", "calendly_patch_event_layout")}
    coordinator = FlowCoordinator(project_config, project_config.get_flow("calendly_setup_clone"),
                                  options=options)
    coordinator.run(task_fake_org.org_config(project_config))
    values = {result.task_name: result.return_values for result in coordinator.results}
    assert list(values) == ["calendly_preflight", "calendly_clone_flow",
                            "calendly_activate_flow", "calendly_patch_event_layout"]
    assert values["calendly_clone_flow"]["would_action"] == "create"
    activation = values["calendly_activate_flow"]
    assert (activation["developer_name"], activation["would_change_to"]) == (
        "Calendly_Participant_Sync", 1)
    assert ("Dry run: flow Calendly_Participant_Sync is not in org sandbox yet; "
            "calendly_clone_flow would create it as a copy of Calendly__CreateEventTemplate "
            "as version 1") in caplog.text
    assert org.write_calls(org.mock.calls) == []
    assert "Calendly_Participant_Sync" not in org.flows


def test_calendly_setup_stops_at_an_old_package(project_config, org):
    from tasks.preflight import PreflightError

    org.install_package("Calendly", "2.4")
    org.layouts["Event-Event Layout"] = event_layouts()[0]
    coordinator = FlowCoordinator(project_config, project_config.get_flow("calendly_setup"))
    with pytest.raises(PreflightError, match="at version 2.4"):
        coordinator.run(task_fake_org.org_config(project_config))
    assert org.write_calls(org.mock.calls) == []


def test_calendly_setup_default_route_end_to_end_and_rerun_writes_nothing(project_config, org):
    org.install_package("Calendly", "2.5")
    org.layouts["Event-Event Layout"] = event_layouts()[0]
    first = FlowCoordinator(project_config, project_config.get_flow("calendly_setup"))
    first.run(task_fake_org.org_config(project_config))
    assert [result.task_name for result in first.results] == [
        "calendly_preflight",
        "calendly_deploy_sync_fields",  # the org already has them: nothing to deploy
        "calendly_assign_permission_set",  # not yet assigned to the running user
        "calendly_deploy_flows",
        "calendly_activate_flow",  # Create_Event_Participant_Template: deployed active
        "calendly_activate_flow",  # Create_Event_Template: the same
        "calendly_activate_flow",  # CreateEventTemplate
        "calendly_patch_event_layout",
    ]
    assert org.flows["CreateEventTemplate"]["active"] == 1
    assert b"<field>Attendees</field>" in org.layouts["Event-Event Layout"]
    assert org.assigned == {"Calendly_Participant_Sync"}
    # the assignment insert, one flow deploy, PATCH, layout deploy
    assert len(org.write_calls(org.mock.calls)) == 4

    second = FlowCoordinator(project_config, project_config.get_flow("calendly_setup"))
    second.run(task_fake_org.org_config(project_config))
    assert len(org.write_calls(org.mock.calls)) == 4
    assert len(org.flows["CreateEventTemplate"]["versions"]) == 1


def test_calendly_setup_activates_the_subflows_where_deploys_land_inactive(project_config, org):
    # Production without "Deploy processes and flows as active": the Active subflows arrive
    # inactive, and a Subflow element only calls an active flow.
    org.deploys_flows_inactive = True
    org.install_package("Calendly", "2.5")
    org.layouts["Event-Event Layout"] = event_layouts()[0]
    first = FlowCoordinator(project_config, project_config.get_flow("calendly_setup"))
    first.run(task_fake_org.org_config(project_config))
    for name in ("Create_Event_Template", "Create_Event_Participant_Template"):
        assert org.flows[name]["active"] == 1, name
    assert org.flows["CreateEventTemplate"]["active"] == 1
    # the assignment, deploy, 3 PATCHes, layout deploy
    assert len(org.write_calls(org.mock.calls)) == 6

    second = FlowCoordinator(project_config, project_config.get_flow("calendly_setup"))
    second.run(task_fake_org.org_config(project_config))
    assert len(org.write_calls(org.mock.calls)) == 6


def test_benchmark_counts_calls_and_finds_no_rerun_writes(capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("api_calls", ROOT / "bench" / "api_calls.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main([]) == 0
    out = capsys.readouterr().out
    assert "| calendly_activate_flow | first run | 3 | 1 | changed=True |" in out
    # Pipeline order: the activation dry run sees version 2, deployed by the step before it
    # (run before any deploy, it would offer the fake org's old version 1).
    assert "| calendly_activate_flow | dry run | 1 | 0 | changed=False, would_change_to=2 |" in out
    assert "writes outside the first run: 0; errors: 0" in out


def test_benchmark_fails_when_a_rerun_writes(capsys, monkeypatch):
    import importlib.util
    from itertools import count

    import tasks.flow_deploy

    spec = importlib.util.spec_from_file_location("api_calls", ROOT / "bench" / "api_calls.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    # Break change detection: every flow now looks changed, so the re-run deploys again.
    fresh = count()
    monkeypatch.setattr(tasks.flow_deploy, "canonical", lambda xml, _: str(next(fresh)).encode())
    assert bench.main([]) == 1
    assert "| calendly_deploy_flows | re-run | 5 | 1 |" in capsys.readouterr().out
