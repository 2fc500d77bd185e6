"""Every project task names a wrong option: unknown ones with the task's options, bad values
with the value given (stock cci said "extra options not permitted", or ignored the option)."""

import pytest
from cumulusci.core.exceptions import TaskOptionsError

from tasks.event_layout import AddAttendeesToEventLayouts
from tasks.flow_activation import ActivateFlow
from tasks.flow_clone import CloneFlow
from tasks.flow_deploy import DeployChangedFlows
from tasks.package_version import CheckPackageVersion
from tasks.preflight import Preflight
from tests.fixtures.tasks.task_fake_org import make_task

TASKS = [ActivateFlow, CloneFlow, DeployChangedFlows, CheckPackageVersion, Preflight,
         AddAttendeesToEventLayouts]
REQUIRED = {CloneFlow: {"target": "T", "label": "L"}}


@pytest.mark.parametrize("task_class", TASKS, ids=lambda c: c.__name__)
def test_an_unknown_option_is_named_with_the_tasks_options(task_class):
    with pytest.raises(TaskOptionsError) as err:
        make_task(task_class, {**REQUIRED.get(task_class, {}), "dryrun": "True"})
    message = str(err.value)
    assert f"{task_class.__name__} has no option dryrun (given 'True'). Options of " in message
    options = getattr(task_class, "Options", None)
    for name in (options.__fields__ if options else task_class.task_options):
        assert name in message.split("Options of")[1]
    assert "-o NAME VALUE" in message


def test_a_bad_value_is_named_with_the_value_given():
    with pytest.raises(TaskOptionsError) as err:
        make_task(ActivateFlow, {"version": "two"})
    message = str(err.value)
    assert "Error in 'version' option: 'value is not a valid integer' (given version='two')" in (
        message)
    assert "Options of ActivateFlow: active, developer_name, dry_run" in message


def test_the_cci_task_name_is_used_when_cci_gives_it(project_config):
    """cci names the TaskConfig after the task (calendly_activate_flow), and so does the error."""
    from cumulusci.core.config import OrgConfig

    config = project_config.get_task("calendly_activate_flow")
    config.config["options"] = {"versoin": "2"}
    with pytest.raises(TaskOptionsError) as err:
        ActivateFlow(project_config, config, OrgConfig({}, "test"))
    assert "calendly_activate_flow has no option versoin (given '2')" in str(err.value)
