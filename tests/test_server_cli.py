"""`python -m localorg start|status|register|stop` in a temporary LOCALORG_HOME."""

import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def localorg(env, *args, check=True):
    result = subprocess.run([sys.executable, "-m", "localorg", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=180)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    home = tmp_path_factory.mktemp("localorg")
    env = {**os.environ, "LOCALORG_HOME": str(home)}
    localorg(env, "start", "--fresh")
    try:
        yield env, home
    finally:
        localorg(env, "stop")


def test_start_is_idempotent_and_status_reports_health(running):
    env, home = running
    state = json.loads((home / "server.json").read_text())
    assert state["url"].startswith("https://127.0.0.1:")
    again = localorg(env, "start")
    assert "already running" in again.stderr
    assert state == json.loads((home / "server.json").read_text())
    status = localorg(env, "status")
    assert "healthy" in status.stderr and "Calendly 2.5" in status.stderr
    refused = localorg(env, "start", "--fresh", check=False)
    assert refused.returncode == 2 and "stop" in refused.stderr


def test_secrets_are_private_and_never_printed_or_logged(running):
    env, home = running
    token = (home / "token").read_text().strip()
    result = localorg(env, "register")
    assert result.stdout.strip() == f". {shlex.quote(str(home / 'env.sh'))}"
    for name in ("token", "env.sh", "key.pem"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    exports = (home / "env.sh").read_text()
    org = json.loads(shlex.split(exports.split("export CUMULUSCI_ORG_local=")[1])[0])
    assert org["access_token"] == token and org["config_name"] == "local"
    assert "export CUMULUSCI_DISABLE_REFRESH=1" in exports
    assert token not in result.stdout + result.stderr
    assert token not in (home / "access.log").read_text()
    assert token not in (home / "server.log").read_text()
    # The register check ran `cci org info` under a throw-away name; cci saved that org (token
    # included) in its keychain folder, and register removed it again.
    assert "Verified with `cci org info` (as 'local_check_" in result.stderr
    assert not list(Path.home().glob(".cumulusci/*/local_check_*.org"))


def test_the_token_is_required(running):
    env, home = running
    url = json.loads((home / "server.json").read_text())["url"]
    bundle = str(home / "ca-bundle.pem")
    denied = requests.get(f"{url}/services/data", verify=bundle,
                          headers={"Authorization": "Bearer not-the-token"})
    assert denied.status_code == 401
    token = (home / "token").read_text().strip()
    ok = requests.get(f"{url}/services/data", verify=bundle,
                      headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200


def test_stop_then_status_says_not_running(tmp_path):
    env = {**os.environ, "LOCALORG_HOME": str(tmp_path)}
    localorg(env, "start", "--calendly-version", "none")
    state = json.loads((tmp_path / "server.json").read_text())
    assert state["calendly_version"] is None
    localorg(env, "stop")
    status = localorg(env, "status", check=False)
    assert status.returncode == 3 and "not running" in status.stderr
    assert not (tmp_path / "server.json").exists()
    missing = localorg(env, "register", check=False)
    assert missing.returncode == 2 and "not running" in missing.stderr


def test_ca_bundle_is_not_rebuilt_from_itself(tmp_path, monkeypatch):
    from localorg.server.tls import ensure_certificate

    (tmp_path / "other").mkdir()
    roots = ensure_certificate(tmp_path / "other")[0]  # any PEM file: "the environment's roots"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(roots))
    home = tmp_path / "home"
    home.mkdir()
    cert, _, bundle = ensure_certificate(home)
    first = bundle.read_bytes()
    assert first == roots.read_bytes() + b"\n" + cert.read_bytes()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))  # a shell that sourced env.sh
    ensure_certificate(home)
    assert bundle.read_bytes() == first


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_bad_port_is_refused_before_anything_starts(tmp_path, port):
    env = {**os.environ, "LOCALORG_HOME": str(tmp_path)}
    result = localorg(env, "start", "--port", port, check=False)
    assert result.returncode == 2 and "is not a TCP port: give 1-65535" in result.stderr
    assert not (tmp_path / "server.json").exists()


@pytest.mark.parametrize("args, message", [
    (["start", "--calendly-version", "2.x"],
     "argument --calendly-version: '2.x' is not a package version: give MAJOR.MINOR[.PATCH] "
     "such as 2.5 or 2.10.1, a beta as 2.6b1, or 'none'"),
    (["start", "--port", "99999"], "'99999' is not a TCP port: give 1-65535"),
    (["start", "--bogus"], "unknown option(s) --bogus for `python -m localorg start`; allowed: "
                           "--calendly-version, --fresh, --help, --no-shared-activities, --port"),
    (["register", "--name", "my-org"], "argument --name: 'my-org': use letters, digits and _"),
    (["scenario", "tests/scenarios/01_booking_creates_event_for_contact.yml", "--flows-dir",
      "nowhere"], "--flows-dir nowhere: no *.flow-meta.xml files there"),
], ids=["version", "port", "option", "name", "flows-dir"])
def test_bad_options_are_refused_at_start_and_named(tmp_path, args, message):
    """Refused before anything starts (issue 10: `--calendly-version 2.x` used to start an org
    whose every version check then failed with HTTP 500)."""
    env = {**os.environ, "LOCALORG_HOME": str(tmp_path)}
    result = localorg(env, *args, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "server.json").exists()


def test_start_without_shared_activities(tmp_path):
    """`start --no-shared-activities`: a new org whose EventRelation has no IsParent; the
    setting stays with the org, and asking for the other one on a restart says so."""
    env = {**os.environ, "LOCALORG_HOME": str(tmp_path)}
    localorg(env, "start", "--fresh", "--no-shared-activities")
    try:
        state = json.loads((tmp_path / "server.json").read_text())
        assert state["shared_activities"] is False
        assert "Shared Activities off" in localorg(env, "status").stderr
        token = (tmp_path / "token").read_text().strip()
        describe = requests.get(f"{state['url']}/services/data/v63.0/sobjects/EventRelation/"
                                "describe", verify=str(tmp_path / "ca-bundle.pem"),
                                headers={"Authorization": f"Bearer {token}"}).json()
        names = {f["name"] for f in describe["fields"]}
        assert "IsInvitee" in names and not {"IsParent", "IsWhat"} & names
    finally:
        localorg(env, "stop")
    restarted = localorg(env, "start")
    try:
        assert "this org has Shared Activities off" in restarted.stderr
    finally:
        localorg(env, "stop")
