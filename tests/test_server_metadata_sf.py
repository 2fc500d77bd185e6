"""The sf CLI against the local org: login with its session id, then a Metadata API deploy and a
retrieve that sf polls (Queued, InProgress, Succeeded) to the end, as on a real org. Runs the
real sf CLI (several seconds); select or skip with ``-m e2e``."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from metacheck.convert import SF_ENV, find_sf

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ('<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/'
           'metadata"><types><members>*</members><name>Flow</name></types><version>63.0</version>'
           "</Package>")
pytestmark = pytest.mark.e2e


def test_sf_logs_in_with_the_session_id_and_polls_a_deploy_and_a_retrieve(serve_org, tmp_path):
    sf = find_sf(ROOT)
    if sf is None:
        pytest.skip("the sf CLI is not installed (make setup puts it in node_modules/.bin)")
    from localorg import calendly

    org = calendly.local_org(version="2.5")
    # the booking outcome fields the flow writes, as a real org needs them before the flow
    org.install_source(ROOT / "force-app" / "main" / "default")
    live = serve_org(org)
    env = {**os.environ, **SF_ENV, "HOME": str(tmp_path), "SF_ACCESS_TOKEN": live.token,
           "NODE_EXTRA_CA_CERTS": str(live.bundle), "SF_USE_GENERIC_UNIX_KEYCHAIN": "true",
           # sf needs the checkout's Node 22 (node_modules/.bin/node) before the system's
           "PATH": os.pathsep.join([str(Path(sf).parent), os.environ.get("PATH", "")])}

    def run(*args):
        result = subprocess.run([sf, *args, "--json"], env=env, cwd=tmp_path, text=True,
                                capture_output=True, timeout=300)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        return json.loads(result.stdout)["result"]

    run("org", "login", "access-token", "--instance-url", live.url, "--no-prompt",
        "--alias", "local")
    folder = tmp_path / "mdapi"
    (folder / "flows").mkdir(parents=True)
    (folder / "package.xml").write_text(PACKAGE)
    shutil.copy(ROOT / "flows" / "Create_Event_Template.flow-meta.xml",
                folder / "flows" / "Create_Event_Template.flow")
    result = run("project", "deploy", "start", "--metadata-dir", str(folder),
                 "--target-org", "local", "--wait", "5")
    assert result["status"] == "Succeeded" and result["done"] is True
    assert result["id"].startswith("0Af") and len(result["id"]) == 18
    assert [f["fullName"] for f in result["files"]] == ["Create_Event_Template"]
    # sf sends no SOAPAction: the deploy, then at least two checkDeployStatus polls
    assert live.app.calls["POST /services/Soap/m/<version>"] >= 3
    assert [f["name"] for f in org.flows()] == ["Create_Event_Template"]
    # and sf's retrieve poller (checkRetrieveStatus: InProgress, then Succeeded)
    out = tmp_path / "retrieved"
    result = run("project", "retrieve", "start", "--metadata", "Flow:Create_Event_Template",
                 "--target-metadata-dir", str(out), "--unzip", "--target-org", "local",
                 "--wait", "5")
    assert result["status"] == "Succeeded", result
    assert list(out.rglob("Create_Event_Template.flow"))
