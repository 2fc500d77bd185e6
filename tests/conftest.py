"""Fixtures shared by the test modules: the fake org of the task tests, a task factory, the cci
project config, and live local orgs served over HTTPS.

- `fake_org`: a `FakeOrg` (tests/fixtures/tasks/task_fake_org.py) answering every request of the
  test through `responses`;
- `make_task`: CumulusCI's own task factory with this project's API version;
- `project_config`: this repository's cumulusci.yml as cci loads it;
- `live`: one fresh local org per test module, served on a free port (`live.url`, `live.token`,
  `live.org`), with `REQUESTS_CA_BUNDLE` set so requests and simple-salesforce trust it;
- `serve_org`: serve an `Org` of the test's own making the same way: `live = serve_org(org)`.
"""

from contextlib import ExitStack, contextmanager

import pytest

from localorg.server.inprocess import running_server
from localorg.store import Org
from tests.fixtures.tasks import task_fake_org


@contextmanager
def _served(org, folder):
    with pytest.MonkeyPatch.context() as patch, running_server(org, folder) as server:
        patch.setenv("REQUESTS_CA_BUNDLE", str(server.bundle))
        server.org = org
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
    with _served(Org(":memory:"), tmp_path_factory.mktemp("tls")) as server:
        yield server


@pytest.fixture
def serve_org(tmp_path):
    with ExitStack() as stack:
        yield lambda org: stack.enter_context(_served(org, tmp_path))
