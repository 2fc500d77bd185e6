"""The Robot Framework API suites, run by CumulusCI's stock `robot` task against the local org.

    cci task run robot --org local    (suites and `exclude: browser` come from cumulusci.yml)

The command itself runs in a clone (the last test) and in the README's first block; the suites'
pass and fail cases run the same task in the test process (tests/fixtures/inprocess.py).
"""

import subprocess
import sys
from pathlib import Path

import pytest
from cumulusci.core.exceptions import RobotTestFailure

from localorg.demo import ORG_NAME
from tests.fixtures import inprocess
from tests.fixtures.checkout import copy_of_checkout
from tests.fixtures.flows_org import running_copy

ROOT = Path(__file__).resolve().parents[1]
CCI = str(Path(sys.executable).parent / "cci")
API_SUITES = ROOT / "robot" / "CalendlySync" / "tests" / "api"
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def org_env(flows_org_home, tmp_path_factory):
    """A copy of the flows org (in its own LOCALORG_HOME), CreateEventTemplate active."""
    with running_copy(flows_org_home, tmp_path_factory.mktemp("localorg")) as env:
        yield env


def execution_result(output: Path):
    """Robot's reading of an output.xml (Robot imported here: only the worker that runs this
    module pays for it, not every worker's collection)."""
    from robot.api import ExecutionResult

    return ExecutionResult(str(output))


def robot(env, suites, outputdir) -> tuple:
    """`cci task run robot --org local -o suites SUITES -o options outputdir:OUTPUTDIR`, in
    this process: (the RobotTestFailure the task raised, on which cci exits 1, or None; the
    results)."""
    failure = None
    with inprocess.cci(env) as (project, org):
        try:
            inprocess.run_task(project, org, "robot", suites=str(suites),
                               options={"outputdir": str(outputdir)})
        except RobotTestFailure as error:
            failure = error
    output = outputdir / "output.xml"
    assert output.exists(), f"robot wrote no output.xml ({failure})"
    return failure, execution_result(output)


def test_api_suites_pass(org_env, tmp_path):
    failure, execution = robot(org_env, API_SUITES, tmp_path)
    stats = execution.statistics.total
    assert failure is None, failure
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
    failure, execution = robot(org_env, suite, tmp_path / "out")
    assert failure is not None  # cci exits 1 on it
    assert (execution.statistics.total.passed, execution.statistics.total.failed) == (0, 1)
    assert execution.suite.tests[0].message.endswith("should be 2 but is 1.")


def test_robot_task_runs_in_a_clone_with_a_local_origin(org_env, tmp_path):
    """`cci task run robot --org local` as the README shows it, in a clone whose origin is a
    local path (stock CumulusCI failed there with "list index out of range"): the suites pass
    and the results land in robot/CalendlySync/results/, not in the checkout's root."""
    clone = copy_of_checkout(tmp_path / "clone")  # this checkout's state, committed or not
    # A short local path, as a clone of a clone on a build machine has (never fetched here).
    subprocess.run(["git", "remote", "set-url", "origin", "/srv/calendly"], cwd=clone, check=True)
    result = subprocess.run([CCI, "task", "run", "robot", "--org", ORG_NAME], cwd=clone,
                            env=org_env, text=True, capture_output=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    results = clone / "robot" / "CalendlySync" / "results"
    assert {p.name for p in results.iterdir()} >= {"output.xml", "log.html", "report.html"}
    assert not (clone / "output.xml").exists()
    stats = execution_result(results / "output.xml").statistics.total
    assert (stats.passed, stats.failed) == (5, 0)
