"""Fixtures shared by the test modules: the fake org of the task tests, a task factory, the cci
project config, and live local orgs served over HTTPS.

- `fake_org`: a `FakeOrg` (tests/fixtures/tasks/task_fake_org.py) answering every request of the
  test through `responses`;
- `make_task`: CumulusCI's own task factory with this project's API version;
- `project_config`: this repository's cumulusci.yml as cci loads it;
- `live`: one fresh local org per test module, served on a free port (`live.url`, `live.token`,
  `live.org`);
- `serve_org`: serve an `Org` of the test's own making the same way: `live = serve_org(org)`;
  `serve_module_org` the same for a module-scoped fixture;
- `local_org`: `with local_org("2.4") as live:` a fresh org with that Calendly package version
  (None: without the package), served;
- `cci_org`: `cci_org(live)`, the cci org config of a served local org (token, never refreshed);
- `fresh_live`, `fresh_sf`: a fresh served org with the Calendly stand-in for each test, and a
  simple-salesforce session on it;
- `flows_org_home`: an org home where cci deployed the booking fields and flows, set up once per
  run (tests/fixtures/flows_org.py); `running_copy(flows_org_home, folder)` serves a copy of it;
- `dev_org_turn`: `with dev_org_turn():` around `cci flow run dev_org`, one at a time across
  xdist workers;
- `own_cci_keychain` (every test): HOME with a cci keychain of this pytest process's own;
- `sf_convert_once` (every test): cci's in-process deploys convert each distinct source once;
- `metacheck_cache` (every test): metacheck's Node tools run once per distinct input in the run,
  also in the `python -m metacheck` the tests start (metacheck/cache.py);
- `yaml_parsed_once` (every test): each distinct YAML text is parsed once per test run.

A served org has `REQUESTS_CA_BUNDLE` set for the test so requests, simple-salesforce and cci
trust it, the Metadata API polls of cci without sleeps, and `live.writes()`: the PATCHes and
Metadata deploys it answered.
"""

import fcntl
import gc
import os
from contextlib import ExitStack, contextmanager
from pathlib import Path
from unittest import mock

import pytest
import yaml
from cumulusci.core import sfdx
from cumulusci.core.config import OrgConfig
from simple_salesforce import Salesforce

from localorg import calendly
from localorg.server.inprocess import running_server
from metacheck import cache
from tests.fixtures import flows_org, inprocess, sf_convert, yaml_once
from tests.fixtures.tasks import task_fake_org


def _writes(server) -> int:
    return sum(n for route, n in server.app.calls.items()
               if route.startswith("PATCH ") or route.endswith(" deploy"))


@contextmanager
def _served(org, folder):
    with pytest.MonkeyPatch.context() as patch, running_server(org, folder) as server:
        patch.setenv("REQUESTS_CA_BUNDLE", str(server.bundle))
        inprocess.no_poll_sleeps(patch)
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


@pytest.fixture(scope="module")
def serve_module_org(tmp_path_factory):
    with ExitStack() as stack:
        yield lambda org: stack.enter_context(_served(org, tmp_path_factory.mktemp("tls")))


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


@pytest.fixture(scope="session", autouse=True)
def own_cci_keychain(tmp_path_factory):
    """A HOME of this test process's own, with an empty ~/.cumulusci: `python -m localorg
    register` saves the org `local` in cci's keychain there, so parallel workers never point
    each other's `local` at their own org, and the developer's registration stays as it was.
    Everything else in HOME (sf's state, git's config) is linked to the real one."""
    real = Path.home()
    home = tmp_path_factory.mktemp("home")
    for entry in real.iterdir():
        if entry.name != ".cumulusci":
            (home / entry.name).symlink_to(entry)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        yield home


@pytest.fixture(scope="session", autouse=True)
def sf_convert_once(tmp_path_factory):
    """cci's in-process deploys convert each distinct source folder once (sf_convert.py)."""
    store = _run_folder(tmp_path_factory) / "sf-convert"
    store.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sfdx, "sfdx", sf_convert.remembering(sfdx.sfdx, store))
        yield


@pytest.fixture(scope="session", autouse=True)
def metacheck_cache(tmp_path_factory):
    """METACHECK_CACHE for the run: sf's conversion of the project, the Apex parser on the
    generated class and Flow Scanner on the project's flows, each asked for by an API test and
    by the `python -m metacheck` test, run once (metacheck/cache.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(cache.ENV, str(_run_folder(tmp_path_factory) / "metacheck-cache"))
        yield


@pytest.fixture(scope="session", autouse=True)
def yaml_parsed_once(tmp_path_factory):
    """`yaml.safe_load` parses each distinct text once per run (yaml_once.py): cci's metadata
    map and cumulusci.yml files, read again by every deploy and project config."""
    store = _run_folder(tmp_path_factory) / "yaml"
    store.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yaml, "safe_load", yaml_once.remembering(yaml.safe_load, store))
        yield


def _run_folder(tmp_path_factory):
    """The test run's temporary folder, which every pytest-xdist worker of the run shares."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def flows_org_home(tmp_path_factory):
    return flows_org.prepared_home(_run_folder(tmp_path_factory))


@pytest.fixture
def dev_org_turn(tmp_path_factory):
    """`with dev_org_turn():` waits until no other test of the run is in `cci flow run dev_org`:
    it rewrites src/ in the checkout (stock dx_convert_from), so two at once would deploy each
    other's half-written files."""
    @contextmanager
    def turn():
        with open(_run_folder(tmp_path_factory) / "dev_org.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            yield
    return turn



def pytest_configure(config):
    """The garbage collector of a test process collects its youngest generation every 10,000
    allocations instead of 700: cci's runs and the imports make a great many long-lived
    objects, which each full collection walked again (about 4% of a worker's CPU). Memory is
    still freed by reference counting as before; only cycles wait longer."""
    gc.set_threshold(10_000, *gc.get_threshold()[1:])


def pytest_collection_finish(session):
    """What collection imported stays for the whole run: kept out of every later collection."""
    gc.freeze()


# --- pytest-xdist (make test: --dist loadscope): what runs together, and when --------------

# The longest tests, about 20-35 s each, mostly waiting on cci commands and their Metadata API
# polls: each is a unit of work of its own, started first, in this order (--durations shows
# them). Everything else goes by module, so module fixtures are set up once.
LONGEST = (
    "tests/test_readme.py::test_runnable_block_passes_in_a_new_shell[",  # each README block
    "tests/test_demo.py::test_demo_books_the_sample_meetings_and_leaves_a_running_org_alone",
    "tests/test_task_uninstall.py::test_cli_uninstall_after_dev_org_twice",
)


def _longest(nodeid: str) -> int | None:
    return next((n for n, prefix in enumerate(LONGEST) if nodeid.startswith(prefix)), None)


def pytest_collection_modifyitems(items):
    """LONGEST first, then the other modules with end-to-end tests, then the rest: xdist hands
    the units out in this order (its own reorder, by test count, put these last)."""
    e2e = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("e2e")}

    def rank(item):
        longest = _longest(item.nodeid)
        if longest is not None:
            return (0, longest)
        return (1, item.nodeid.split("::")[0] not in e2e)

    items.sort(key=rank)  # stable: each module's other tests stay together and in order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        """loadscope in collection order, LONGEST tests as units of their own. A worker holds
        one unit beyond the one it runs (it needs the next test to finish the current one),
        so a worker with a LONGEST test still to finish is given the first other unit: a long
        test never waits behind another while a worker that could start it idles."""

        def _split_scope(self, nodeid):
            return nodeid if _longest(nodeid) is not None else super()._split_scope(nodeid)

        def _assign_work_unit(self, node):
            pending = [nodeid for unit in self.assigned_work.get(node, {}).values()
                       for nodeid, done in unit.items() if not done]
            if any(_longest(nodeid) is not None for nodeid in pending):
                other = next((unit for unit in self.workqueue if _longest(unit) is None), None)
                if other is not None:
                    self.workqueue.move_to_end(other, last=False)
            super()._assign_work_unit(node)

    if config.getvalue("dist") != "loadscope":
        return None
    config.option.loadscopereorder = False  # keep the order pytest_collection_modifyitems set
    return Scheduling(config, log)
