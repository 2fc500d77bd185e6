"""The scratch-org CI workflow: secret handling, toolchain, setup, and cleanup that always runs."""

from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "feature.yml"


def steps():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    return job["steps"]


def step(name_part):
    (found,) = [s for s in steps() if name_part in s.get("name", "")]
    return found


def test_scratch_org_is_always_deleted_last():
    last = steps()[-1]
    assert last["if"] == "always()"
    assert last["run"].strip() == "cci org scratch_delete feature"


def test_secret_only_reaches_the_login_step_and_is_never_printed():
    text = WORKFLOW.read_text()
    assert text.count("secrets.SFDX_AUTH_URL") == 1
    login = step("Dev Hub")
    assert login["env"] == {"SFDX_AUTH_URL": "${{ secrets.SFDX_AUTH_URL }}"}
    script = login["run"]
    assert "sf org login sfdx-url --sfdx-url-file" in script
    assert "umask 077" in script
    # the auth file goes away on every exit, a failed login included
    assert script.index("trap 'rm -f \"$auth_file\"' EXIT") < script.index("printf")
    for leak in ("echo $SFDX_AUTH_URL", 'echo "$SFDX_AUTH_URL"', "set -x", 'cat "$auth_file"'):
        assert leak not in text


def test_node_matches_the_sf_cli():
    (node,) = [s for s in steps() if s.get("uses", "").startswith("actions/setup-node")]
    assert node["with"]["node-version"] == "22"  # sf 2.150.6 needs Node 22


def test_toolchain_setup_and_org_flow():
    runs = [s.get("run", "") for s in steps()]
    assert any("make setup" in r for r in runs)
    assert "cci org scratch feature feature" in runs
    assert "cci flow run dev_org --org feature" in runs
    assert any(r.startswith("python bench/api_calls.py --org feature") for r in runs)
    order = [r.split("\n")[0] for r in runs if r]
    assert order.index("cci org scratch feature feature") < order.index(
        "cci flow run dev_org --org feature"
    )
