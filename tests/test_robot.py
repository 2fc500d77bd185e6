"""The Robot Framework API suites, run by CumulusCI's stock `robot` task against the local org.

    cci task run robot --org local    (suites and `exclude: browser` come from cumulusci.yml)
"""

import subprocess
import sys
from pathlib import Path

import pytest
from cumulusci.utils.git import parse_repo_url
from robot.api import ExecutionResult

from localorg.demo import ORG_NAME, register_env, run, stop_org

ROOT = Path(__file__).resolve().parents[1]
CCI = str(Path(sys.executable).parent / "cci")
API_SUITES = ROOT / "robot" / "CalendlySync" / "tests" / "api"


def repo_url_env() -> dict:
    """Stock `robot` reads the repo name from the git remote `origin` and fails with
    "list index out of range" when that is a short local path (a clone of a clone, as
    in CI). Then give cci the name through its documented override instead.
    """
    origin = subprocess.run(["git", "remote", "get-url", "origin"], cwd=ROOT, text=True,
                            capture_output=True).stdout.strip()
    try:
        if origin:
            parse_repo_url(origin)
        return {}
    except IndexError:
        return {"CUMULUSCI_AUTO_DETECT": "1",
                "CUMULUSCI_REPO_URL": f"file://localhost/checkout/{ROOT.name}"}


@pytest.fixture(scope="module")
def org_env(tmp_path_factory):
    """A fresh local org (in its own LOCALORG_HOME) with CreateEventTemplate active."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOCALORG_HOME", str(tmp_path_factory.mktemp("localorg")))
        run([sys.executable, "-m", "localorg", "start", "--fresh"], capture=True)
        try:
            env = {**register_env(), **repo_url_env()}
            run([CCI, "task", "run", "deploy", "--org", ORG_NAME, "-o", "path", "flows"],
                env=env, capture=True)
            run([CCI, "task", "run", "calendly_activate_flow", "--org", ORG_NAME], env=env,
                capture=True)
            yield env
        finally:
            stop_org()


def robot(env, suites, outputdir) -> tuple:
    result = subprocess.run(
        [CCI, "task", "run", "robot", "--org", ORG_NAME, "-o", "suites", str(suites),
         "-o", "options", f"outputdir:{outputdir}"],
        cwd=ROOT, env=env, text=True, capture_output=True, timeout=600)
    output = outputdir / "output.xml"
    log = result.stdout[-4000:] + result.stderr[-4000:]
    assert output.exists(), f"robot wrote no output.xml:\n{log}"
    return result, ExecutionResult(str(output))


def test_api_suites_pass(org_env, tmp_path):
    result, execution = robot(org_env, API_SUITES, tmp_path)
    stats = execution.statistics.total
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert (stats.passed, stats.failed) == (5, 0)


def test_a_wrong_expectation_fails_the_run(org_env, tmp_path):
    """The suites can fail: one booking checked for two Events fails, and cci exits non-zero."""
    suite = tmp_path / "Wrong.robot"
    suite.write_text(f"""*** Settings ***
Resource        {ROOT}/robot/CalendlySync/resources/Bookings.robot
Suite Teardown  Delete Session Records

*** Test Cases ***
One Booking Is Not Two Events
    ${{run}}=  Unique Suffix
    Book Meeting  wrong-${{run}}  wrong-${{run}}@robot.test  admin@localorg.test  Wrong
    @{{events}}=  Events For Invitee  wrong-${{run}}
    Length Should Be  ${{events}}  2
""")
    result, execution = robot(org_env, suite, tmp_path / "out")
    assert result.returncode != 0
    assert (execution.statistics.total.passed, execution.statistics.total.failed) == (0, 1)
    assert execution.suite.tests[0].message.endswith("should be 2 but is 1.")
