"""The CI workflow: actionlint, one run per change, the offline job, the scratch-org job (secret,
skip without it, Apex tests, coverage, Robot results, cleanup) and the sandbox validate-only job."""

import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW = WORKFLOWS / "ci.yml"
ACTIONLINT = ROOT / ".venv" / "bin" / "actionlint"


def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def steps(job):
    return workflow()["jobs"][job]["steps"]


def step(job, name_part):
    (found,) = [s for s in steps(job) if name_part in s.get("name", "")]
    return found


def runs(job):
    return [s.get("run", "") for s in steps(job)]


def test_actionlint_passes_on_every_workflow():
    files = sorted(WORKFLOWS.glob("*.y*ml"))
    assert files == [WORKFLOW]
    proc = subprocess.run([str(ACTIONLINT), "-no-color", *map(str, files)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stdout) == (0, "")


def test_actionlint_catches_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(WORKFLOW.read_text().replace("needs.secrets.outputs.devhub",
                                                "needs.secret.outputs.devhub"))
    proc = subprocess.run([str(ACTIONLINT), "-no-color", str(bad)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert 'property "secret" is not defined' in proc.stdout


def test_one_run_per_change():
    triggers = workflow()[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"pull_request", "push", "workflow_dispatch"}
    assert triggers["push"] == {"branches": ["main"]}  # a PR branch's push is not a 2nd run
    target = triggers["workflow_dispatch"]["inputs"]["target"]
    assert target["options"] == ["scratch", "sandbox"]


def test_offline_job_is_make_test_without_secrets():
    text = yaml.safe_dump(workflow()["jobs"]["offline"])
    assert "make test" in runs("offline")
    assert "secrets." not in text


def test_scratch_org_job_is_skipped_without_the_secret():
    job = workflow()["jobs"]["scratch-org"]
    assert job["needs"] == ["offline", "secrets"]
    assert job["if"].startswith("needs.secrets.outputs.devhub == 'true'")
    check = workflow()["jobs"]["secrets"]["steps"][0]
    assert check["env"]["HAS_DEVHUB"] == "${{ secrets.SFDX_AUTH_URL != '' }}"
    # no step of it can fail for a missing secret: the job does not start
    assert not any("exit 1" in r for r in runs("scratch-org"))


def test_secrets_reach_only_their_login_steps_and_are_never_printed():
    text = WORKFLOW.read_text()
    assert text.count("secrets.SFDX_AUTH_URL") == 2  # the presence check and the login
    for job, secret in (("scratch-org", "SFDX_AUTH_URL"), ("sandbox", "SANDBOX_AUTH_URL")):
        login = [s for s in steps(job) if secret in str(s.get("env", {}))]
        assert len(login) == 1
        script = login[0]["run"]
        assert "sf org login sfdx-url --sfdx-url-file" in script
        assert "umask 077" in script
        assert script.index("trap 'rm -f \"$auth_file\"' EXIT") < script.index("printf")
    for leak in ("echo $SFDX_AUTH_URL", 'echo "$SFDX_AUTH_URL"', "set -x", 'cat "$auth_file"'):
        assert leak not in text


def test_scratch_org_runs_the_generated_apex_tests_coverage_and_robot():
    order = [r.split("\n")[0] for r in runs("scratch-org") if r]
    assert order.index("cci org scratch feature feature") < order.index(
        "cci flow run dev_org --org feature")
    apex = step("scratch-org", "Apex tests")["run"]
    assert "cci task run calendly_deploy_tests --org feature" in apex
    assert "-o test_name_match CalendlyScenariosTest" in apex
    assert "-o junit_output test-results/apex-junit.xml" in apex
    coverage = step("scratch-org", "Flow test coverage")
    assert coverage["run"] == "cci task run calendly_flow_coverage --org feature"
    assert "cci task run robot --org feature" in runs("scratch-org")
    upload = step("scratch-org", "Keep the test results")
    assert upload["if"] == "always()"
    assert upload["with"]["path"].split() == ["test-results/", "robot/CalendlySync/results/"]


def test_robot_task_writes_into_the_uploaded_folder():
    config = yaml.safe_load((ROOT / "cumulusci.yml").read_text())
    robot = config["tasks"]["robot"]["options"]["options"]
    assert robot["outputdir"] == "robot/CalendlySync/results"


def test_scratch_org_is_always_deleted_last():
    last = steps("scratch-org")[-1]
    assert last["if"] == "always()"
    assert last["run"].strip() == "cci org scratch_delete feature"


def test_sandbox_job_validates_only():
    job = workflow()["jobs"]["sandbox"]
    assert job["if"] == "github.event_name == 'workflow_dispatch' && inputs.target == 'sandbox'"
    commands = " ".join(runs("sandbox"))
    assert "cci flow run calendly_validate --org sandbox" in commands
    for writes in ("calendly_setup", "dev_org", "deploy", "scratch"):
        assert f"cci flow run {writes}" not in commands
    assert steps("sandbox")[-1]["if"] == "always()"


def test_node_matches_the_sf_cli():
    for job in ("offline", "scratch-org", "sandbox"):
        (node,) = [s for s in steps(job) if s.get("uses", "").startswith("actions/setup-node")]
        assert node["with"]["node-version"] == "22"  # sf 2.150.6 needs Node 22
