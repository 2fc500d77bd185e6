"""`python -m localorg start|status|register|stop` in a temporary LOCALORG_HOME."""

import datetime
import json
import os
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


def keychain_org(name: str = "local") -> dict:
    """The org config `register` saved in cci's keychain (the session's own HOME)."""
    from localorg.server import ccireg

    return ccireg.project_keychain().get_org(name).config


def plain_shell(**extra) -> dict:
    """A new shell: no LOCALORG_HOME, no REQUESTS_CA_BUNDLE, PATH without node_modules/.bin."""
    return {"HOME": os.environ["HOME"], "PATH": "/usr/bin:/bin", **extra}


def test_secrets_are_private_and_never_printed_or_logged(running):
    env, home = running
    result = localorg(env, "register")
    token = (home / "token").read_text().strip()
    refresh = (home / "refresh_token").read_text().strip()
    for name in ("token", "refresh_token", "key.pem"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600, name
    saved = keychain_org()
    assert saved["access_token"] == token and saved["refresh_token"] == refresh
    assert saved["localorg_home"] == str(home) and saved["config_name"] == "local"
    org_file = next(Path(os.environ["HOME"]).glob(".cumulusci/*/local.org"))
    assert stat.S_IMODE(org_file.stat().st_mode) == 0o600
    for secret in (token, refresh):
        assert secret not in result.stdout + result.stderr
        assert secret not in (home / "access.log").read_text()
        assert secret not in (home / "server.log").read_text()
    assert "Verified with `cci org info local`" in result.stderr


def test_a_new_shell_finds_the_org_and_cci_refreshes_its_token(running):
    """Registration lives in cci's keychain, not in one shell's variables: `bin/cci` in a shell
    with a plain PATH and no localorg variable finds it, and cci renews the token through the
    org's OAuth token endpoint, as for a real org (no CUMULUSCI_DISABLE_REFRESH anywhere)."""
    env, home = running
    localorg(env, "register", "--no-verify")
    before = (home / "access.log").read_text().count("POST /services/oauth2/token\t200")
    result = subprocess.run([str(ROOT / "bin" / "cci"), "org", "info", "local"], cwd=ROOT,
                            env=plain_shell(), capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "admin@localorg.test" in result.stdout
    after = (home / "access.log").read_text().count("POST /services/oauth2/token\t200")
    assert after == before + 1
    assert "CUMULUSCI_DISABLE_REFRESH" not in (ROOT / "localorg" / "cli.py").read_text()


def test_the_token_endpoint_answers_as_salesforce(running):
    env, home = running
    url = json.loads((home / "server.json").read_text())["url"]
    bundle = str(home / "ca-bundle.pem")
    refresh = (home / "refresh_token").read_text().strip()

    def post(**form):
        return requests.post(f"{url}/services/oauth2/token", data=form, verify=bundle)

    good = post(grant_type="refresh_token", refresh_token=refresh, client_id="any")
    assert good.status_code == 200
    body = good.json()
    assert body["access_token"] == (home / "token").read_text().strip()
    assert body["instance_url"] == url and body["token_type"] == "Bearer"
    assert set(body) == {"access_token", "signature", "scope", "instance_url", "id",
                         "token_type", "issued_at"}
    for form, error in [
        ({"grant_type": "refresh_token", "refresh_token": "stale", "client_id": "any"},
         ("invalid_grant", "expired access/refresh token")),
        ({"grant_type": "password", "client_id": "any"},
         ("unsupported_grant_type", "grant type not supported")),
        ({"grant_type": "refresh_token", "refresh_token": refresh},
         ("invalid_client_id", "client identifier invalid")),
        ({"refresh_token": refresh, "client_id": "any"},
         ("invalid_request", "grant type is missing")),
    ]:
        answer = post(**form)
        assert answer.status_code == 400
        assert (answer.json()["error"], answer.json()["error_description"]) == error
    xml = post(grant_type="refresh_token", refresh_token=refresh, client_id="any", format="xml")
    assert xml.status_code == 501 and xml.json()[0]["errorCode"] == "NOT_IMPLEMENTED"


@pytest.mark.e2e
def test_restart_on_another_port_updates_the_registration_and_a_stale_one_is_named(tmp_path):
    """The port of the last start is reused; when it is taken, `start` moves the registration
    to the new port. While the org is stopped, `bin/cci` says so and how to start it (cci alone
    said "We encountered an error with your internet connection")."""
    import socket

    env = {**os.environ, "LOCALORG_HOME": str(tmp_path)}
    localorg(env, "start")
    try:
        localorg(env, "register", "--name", "restarted", "--no-verify")
        first = json.loads((tmp_path / "server.json").read_text())["port"]
        localorg(env, "stop")
        cci = [str(ROOT / "bin" / "cci"), "org", "info", "restarted"]
        stale = subprocess.run(cci, cwd=ROOT, env=plain_shell(), capture_output=True,
                               text=True, timeout=180)
        assert stale.returncode == 1
        assert (f"Error: cci org 'restarted' is the local org in {tmp_path} (registered at "
                f"https://127.0.0.1:{first}), which is not running. Start it with "
                f"`LOCALORG_HOME={tmp_path} ") in stale.stderr
        assert "internet connection" not in stale.stdout + stale.stderr
        localorg(env, "start")
        assert json.loads((tmp_path / "server.json").read_text())["port"] == first
        localorg(env, "stop")
        with socket.socket() as taken:  # another program now listens on that port
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            taken.bind(("127.0.0.1", first))
            taken.listen()
            moved = localorg(env, "start")
        assert "Updated cci org(s) restarted to this address." in moved.stderr
        second = json.loads((tmp_path / "server.json").read_text())["port"]
        assert second != first
        assert keychain_org("restarted")["instance_url"] == f"https://127.0.0.1:{second}"
        info = subprocess.run(cci, cwd=ROOT, env=plain_shell(), capture_output=True, text=True,
                              timeout=180)
        assert info.returncode == 0, info.stdout[-2000:] + info.stderr[-2000:]
    finally:
        localorg(env, "stop")


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
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))  # a shell that trusts the local org
    ensure_certificate(home)
    assert bundle.read_bytes() == first


def certificate_until(year: int) -> bytes:
    """A self-signed certificate valid until 1 January `year` (from 2050 on, X.509 dates are
    GeneralizedTime instead of UTCTime)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "until")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(datetime.datetime(1950, 1, 1))
            .not_valid_after(datetime.datetime(year, 1, 1)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.mark.filterwarnings("ignore:Parsed a serial number")  # a certifi root, read by the check
def test_the_certificate_expiry_is_read_as_cryptography_reads_it(tmp_path):
    """`tls.not_valid_after` reads the DER itself (a start need not import cryptography): the
    org's own certificate, every root of certifi's bundle and certificates ending after 2050
    (GeneralizedTime) give the date cryptography gives."""
    import certifi
    from cryptography import x509

    from localorg.server import cadir, tls

    cert, _, _ = tls.ensure_certificate(tmp_path)
    roots = cadir.certificates(Path(certifi.where()).read_bytes())
    pems = [cert.read_bytes(), certificate_until(1955), certificate_until(2049),
            certificate_until(2050), certificate_until(2120)] + [cadir.to_pem(der) for der in roots]
    assert len(pems) > 100
    for pem in pems:
        expected = x509.load_pem_x509_certificate(pem).not_valid_after_utc
        assert tls.not_valid_after(pem) == expected
    assert [tls.not_valid_after(pem).year for pem in pems[1:5]] == [1955, 2049, 2050, 2120]


@pytest.mark.parametrize("cut", [0, 40, 200])
def test_a_certificate_file_cut_short_is_made_again(tmp_path, cut):
    """A cert.pem left partly written (a start killed while writing it) is replaced at the next
    start by a new certificate and key, as a missing one is, instead of failing to read it."""
    import ssl

    from localorg.server import tls

    cert, key, _ = tls.ensure_certificate(tmp_path, bundle=False)
    cert.write_bytes(cert.read_bytes()[:cut])
    cert, key, _ = tls.ensure_certificate(tmp_path, bundle=False)
    assert tls.not_valid_after(cert.read_bytes()) > datetime.datetime.now(datetime.UTC)
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)  # a pair


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


def test_the_wrapper_finds_the_org_a_command_line_uses(monkeypatch):
    from localorg.server import ccirun

    assert ccirun.org_name(["flow", "run", "dev_org", "--org", "local"]) == "local"
    assert ccirun.org_name(["task", "run", "robot", "--org=qa"]) == "qa"
    assert ccirun.org_name(["org", "browser", "local_demo"]) == "local_demo"
    assert ccirun.org_name(["org", "list"]) is None
    assert ccirun.org_name(["--help"]) is None

    class Keychain:
        def get_default_org(self):
            return "my_default", None

    monkeypatch.setattr(ccirun.ccireg, "project_keychain", Keychain)
    assert ccirun.org_name(["flow", "run", "dev_org"]) == "my_default"


def test_the_wrapper_runs_sf_without_telemetry_or_update_checks_unless_told():
    """bin/cci's sf is the checkout's pinned one: no upload nor version check behind each
    command (two background Node processes), as `make` runs it; a shell's own value stays."""
    from localorg.server import ccirun

    env = ccirun.cci_env({"PATH": "/usr/bin:/bin", "SF_DISABLE_TELEMETRY": "false"})
    assert env["PATH"].split(os.pathsep) == [str(ROOT / "node_modules" / ".bin"),
                                             str(ROOT / ".venv" / "bin"), "/usr/bin", "/bin"]
    assert (env["SF_DISABLE_TELEMETRY"], env["SF_DISABLE_AUTOUPDATE"],
            env["SF_AUTOUPDATE_DISABLE"], env["SF_SKIP_NEW_VERSION_CHECK"]) == (
        "false", "true", "true", "true")


# The modules a command imports, printed after it ran (`python -m localorg ARGS` in-process).
IMPORTED = ("import sys\nfrom localorg.__main__ import main\ncode = main(sys.argv[1:])\n"
            "print(sorted(m for m in ('requests', 'cumulusci', 'localorg.backend') "
            "if m in sys.modules))\nsys.exit(code)\n")


@pytest.mark.parametrize("command, code", [("stop", 0), ("status", 3)])
def test_stop_and_status_of_a_stopped_org_import_no_client_nor_backend(tmp_path, command, code):
    """They only read server.json: requests, cci and the record store are left unimported
    (each costs 20-300 ms of start-up), as `localorg.cli` promises."""
    env = {**os.environ, "LOCALORG_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", IMPORTED, command], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == code and "not running" in result.stderr
    assert result.stdout.strip() == "[]", result.stderr


FAKE_CCI = """import os, sys
import click

@click.command()
@click.argument("words", nargs=-1)
def cli(words):
    name = click.get_current_context().info_name
    print(name, *words, os.environ["MARK"], sys.path[0], sep="|")

cli(standalone_mode=False)
sys.exit(3)
"""


def test_the_wrapper_runs_cci_as_cci_script_would(tmp_path):
    """`bin/cci` runs cci in its own process (`ccirun.main`, then `run_cci`) as cci's
    console script: click names the program after the script (usage and help say `cci`, not
    `python -m ...`), with the wrapper's environment, the script's folder first on sys.path and
    the script's exit code."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "launch.py").write_text(
        "import sys\nfrom pathlib import Path\nfrom localorg.server.ccirun import run_cci\n"
        "run_cci(Path(sys.argv[1]), sys.argv[2:], {'MARK': 'set'})\n")
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / "fakecci"
    script.write_text(FAKE_CCI)
    result = subprocess.run([sys.executable, "-m", "pkg.launch", str(script), "a", "b"],
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, result.stderr
    assert result.stdout.strip() == f"fakecci|a|b|set|{tmp_path / 'bin'}"


def test_the_wrapper_starts_from_a_subfolder():
    """`bin/cci` from a subfolder of the checkout (not its root, where `python -m` would find
    localorg by chance) finds the project, as cci does: it walks up to cumulusci.yml."""
    inside = subprocess.run([str(ROOT / "bin" / "cci"), "project", "info"], cwd=ROOT / "force-app",
                            env=plain_shell(), capture_output=True, text=True, timeout=120)
    assert inside.returncode == 0, inside.stderr[-2000:]
    assert "name: CalendlySync" in inside.stdout
