"""Fixtures shared by the test modules: the fake org of the task tests, a task factory, the cci
project config, and live local orgs served over HTTPS.

- `fake_org`: a `FakeOrg` (tests/fixtures/tasks/task_fake_org.py) answering every request of the
  test through `responses`;
- `make_task`: CumulusCI's own task factory with this project's API version;
- `project_config`: this repository's cumulusci.yml as cci loads it;
- `live`: one fresh local org per test module, served on a free port (`live.url`, `live.token`,
  `live.org`);
- `serve_org`: serve an `Org` of the test's own making the same way: `live = serve_org(org)`;
- `local_org`: `with local_org("2.4") as live:` a fresh org with that Calendly package version
  (None: without the package), served;
- `cci_org`: `cci_org(live)`, the cci org config of a served local org (token, never refreshed);
- `fresh_live`, `fresh_sf`: a fresh served org with the Calendly stand-in for each test, and a
  simple-salesforce session on it.

A served org has `REQUESTS_CA_BUNDLE` set for the test so requests, simple-salesforce and cci
trust it, the Metadata API polls of cci without sleeps, and `live.writes()`: the PATCHes and
Metadata deploys it answered.
"""

from contextlib import ExitStack, contextmanager
from unittest import mock

import pytest
from cumulusci.core.config import OrgConfig
from cumulusci.salesforce_api.metadata import ApiDeploy, ApiListMetadata, ApiRetrieveUnpackaged
from simple_salesforce import Salesforce

from localorg import calendly
from localorg.server.inprocess import running_server
from tests.fixtures.tasks import task_fake_org


def _writes(server) -> int:
    return sum(n for route, n in server.app.calls.items()
               if route.startswith("PATCH ") or route.endswith(" deploy"))


@contextmanager
def _served(org, folder):
    with pytest.MonkeyPatch.context() as patch, running_server(org, folder) as server:
        patch.setenv("REQUESTS_CA_BUNDLE", str(server.bundle))
        for api in (ApiDeploy, ApiRetrieveUnpackaged, ApiListMetadata):
            patch.setattr(api, "check_interval", 0)  # no sleeping between status polls
        server.org = org
        server.writes = lambda: _writes(server)
        yield server


@pytest.fixture
def fake_org():
    with task_fake_org.serving() as fake:
        yield fake


@pytest.fixture
def make_task():
    return task_fake_org.make_task


@pytest.fixture
def project_config():
    return task_fake_org.project_config()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with _served(calendly.local_org(), tmp_path_factory.mktemp("tls")) as server:
        yield server


@pytest.fixture
def serve_org(tmp_path):
    with ExitStack() as stack:
        yield lambda org: stack.enter_context(_served(org, tmp_path))


@pytest.fixture
def local_org(tmp_path):
    return lambda version="2.5": _served(calendly.local_org(version=version), tmp_path)


@pytest.fixture
def cci_org(project_config):
    def make(live):
        config = OrgConfig({"instance_url": live.url, "access_token": live.token,
                            "org_id": live.org.org_id, "username": "admin@localorg.test"},
                           "local", keychain=project_config.keychain)
        config.refresh_oauth_token = mock.Mock()
        return config
    return make


@pytest.fixture
def fresh_live(local_org):
    with local_org() as live:
        yield live


@pytest.fixture
def fresh_sf(fresh_live):
    return Salesforce(instance=f"127.0.0.1:{fresh_live.port}", session_id=fresh_live.token,
                      version="63.0")
