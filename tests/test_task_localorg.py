"""The project's tasks and calendly_setup against the embedded local org (real HTTP, TLS)."""

import sys
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from cumulusci.core.config import OrgConfig
from cumulusci.core.flowrunner import FlowCoordinator
from cumulusci.salesforce_api.metadata import ApiDeploy, ApiListMetadata, ApiRetrieveUnpackaged

from localorg.server.inprocess import running_server
from localorg.store import Org
from tasks.preflight import PreflightError

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "tasks"))
import task_fake_org  # noqa: E402  (project_config only; the org here is the local one)


@pytest.fixture
def project_config():
    return task_fake_org.project_config()


@contextmanager
def local_org(tmp_path, calendly_version):
    org = Org(":memory:", calendly_version=calendly_version)
    with pytest.MonkeyPatch.context() as patch, running_server(org, tmp_path) as live:
        patch.setenv("REQUESTS_CA_BUNDLE", str(live.bundle))
        for api in (ApiDeploy, ApiRetrieveUnpackaged, ApiListMetadata):
            patch.setattr(api, "check_interval", 0)  # no sleeping between status polls
        yield live


@pytest.fixture
def local(tmp_path):
    with local_org(tmp_path, "2.5") as live:
        yield live


def org_config(project_config, live):
    config = OrgConfig(
        {
            "instance_url": live.url,
            "access_token": live.token,
            "org_id": live.app.org.org_id,
            "username": "admin@localorg.test",
        },
        "local",
        keychain=project_config.keychain,
    )
    config.refresh_oauth_token = mock.Mock()
    return config


def writes(live):
    """PATCHes and Metadata deploys the org answered ("METHOD route" counters)."""
    return sum(
        n
        for route, n in live.app.calls.items()
        if route.startswith("PATCH ") or route.endswith(" deploy")
    )


def run_setup(project_config, live):
    coordinator = FlowCoordinator(project_config, project_config.get_flow("calendly_setup"))
    coordinator.run(org_config(project_config, live))
    return {result.task_name: result.return_values for result in coordinator.results}


def test_calendly_setup_on_the_local_org_then_a_rerun_writes_nothing(project_config, local):
    first = run_setup(project_config, local)
    assert first["calendly_preflight"]["ok"] is True
    assert sorted(first["calendly_deploy_flows"]["deployed"]) == [
        "CreateEventTemplate",
        "Create_Event_Participant_Template",
        "Create_Event_Template",
    ]
    assert first["calendly_activate_flow"]["changed"] is True
    assert first["calendly_patch_event_layout"]["patched"] == ["Event-Event Layout"]
    after_first = writes(local)
    assert after_first == 3  # one flow deploy, one activation PATCH, one layout deploy

    second = run_setup(project_config, local)
    assert second["calendly_deploy_flows"]["deployed"] == []
    assert second["calendly_activate_flow"]["changed"] is False
    assert second["calendly_patch_event_layout"]["already_patched"] == ["Event-Event Layout"]
    assert writes(local) == after_first


def test_calendly_setup_stops_on_an_org_with_an_old_package(project_config, tmp_path):
    with local_org(tmp_path, "2.4") as live:
        with pytest.raises(PreflightError, match="at version 2.4 .* older than the required 2.5"):
            run_setup(project_config, live)
        assert writes(live) == 0
