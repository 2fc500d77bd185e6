"""CumulusCI's stock `dependencies` flow against the local org: it upgrades Calendly 2.4 to 2.5.

update_dependencies reads the installed packages through the Tooling API, then deploys CumulusCI's
own InstalledPackage payload (versionNumber before activateRSS, securityType FULL) and polls the
deploy; the local org accepts that payload as Salesforce does and upgrades the package.
"""

import base64
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests
from cumulusci.core.flowrunner import FlowCoordinator
from cumulusci.salesforce_api import soap_envelopes
from cumulusci.salesforce_api.package_zip import InstallPackageZipBuilder
from lxml import etree
from simple_salesforce import Salesforce

from localorg import demo

NS = {"m": "http://soap.sforce.com/2006/04/metadata"}


def installed(live) -> dict:
    return installed_on(Salesforce(instance=live.url.removeprefix("https://"),
                                   session_id=live.token, version="63.0"))


def installed_on(sf) -> dict:
    """Installed package versions as the Tooling API reports them (what cci reads)."""
    rows = sf.toolingexecute(
        "query/?q=SELECT SubscriberPackage.NamespacePrefix, SubscriberPackageVersion.MajorVersion,"
        " SubscriberPackageVersion.MinorVersion FROM InstalledSubscriberPackage")["records"]
    return {r["SubscriberPackage"]["NamespacePrefix"]:
            f"{r['SubscriberPackageVersion']['MajorVersion']}."
            f"{r['SubscriberPackageVersion']['MinorVersion']}" for r in rows}


def test_cci_dependencies_flow_upgrades_calendly_from_2_4_to_2_5(project_config, local_org,
                                                                 cci_org):
    with local_org("2.4") as live:
        assert installed(live) == {"Calendly": "2.4"}
        FlowCoordinator(project_config, project_config.get_flow("dependencies")).run(
            cci_org(live))
        assert installed(live) == {"Calendly": "2.5"}
        assert live.writes() == 1  # the one InstalledPackage deploy
        # A second run finds 2.5 installed and deploys nothing.
        FlowCoordinator(project_config, project_config.get_flow("dependencies")).run(
            cci_org(live))
        assert live.writes() == 1


def soap(live, envelope: str):
    response = requests.post(f"{live.url}/services/Soap/m/63.0/{live.org.org_id}",
                             data=envelope.replace("###SESSION_ID###", live.token).encode(),
                             headers={"Content-Type": "text/xml"})
    assert response.status_code == 200, response.text
    return etree.fromstring(response.content)


def deploy_install(live, namespace, version, extra=None):
    """Deploy CumulusCI's InstalledPackage zip (optionally with another file) and poll it."""
    data = InstallPackageZipBuilder(namespace, version).as_bytes()
    if extra:
        buf = io.BytesIO(data)
        with zipfile.ZipFile(buf, "a") as archive:
            for name, text in extra.items():
                archive.writestr(name, text)
        data = buf.getvalue()
    envelope = soap_envelopes.DEPLOY.format(package_zip=base64.b64encode(data).decode(),
                                            check_only="false", purge_on_delete="false",
                                            test_level="", run_tests="", api_version="63.0")
    job = soap(live, envelope).findtext(".//m:id", namespaces=NS)
    for _ in range(2):  # InProgress, then the result
        doc = soap(live, soap_envelopes.CHECK_DEPLOY_STATUS.format(process_id=job))
    problems = [f.findtext("m:problem", namespaces=NS)
                for f in doc.findall(".//m:componentFailures", NS)]
    return doc.findtext(".//m:status", namespaces=NS), problems


@pytest.mark.parametrize("version, problem", [
    ("2.3", "A newer version of this package is currently installed: Calendly 2.4"),
    ("two", "Invalid version specified:two"),
])
def test_a_downgrade_or_a_bad_version_fails_and_changes_nothing(local_org, version, problem):
    with local_org("2.4") as live:
        status, problems = deploy_install(live, "Calendly", version)
        assert status == "Failed"
        assert [p for p in problems if p.startswith(problem)], problems
        assert installed(live) == {"Calendly": "2.4"}


def test_a_package_not_installed_cannot_be_installed_here(local_org):
    with local_org("2.4") as live:
        status, problems = deploy_install(live, "Acme", "1.0")
        assert status == "Failed"
        assert "The local org cannot install packages: Acme 1.0" in problems[0]


def test_an_installed_package_deploy_carries_no_other_type(local_org):
    with local_org("2.4") as live:
        status, problems = deploy_install(
            live, "Calendly", "2.5",
            {"layouts/Event-Event Layout.layout":
             '<Layout xmlns="http://soap.sforce.com/2006/04/metadata"/>'})
        assert status == "Failed"
        assert any("can't deploy a package along with other metadata types" in p
                   for p in problems), problems
        assert installed(live) == {"Calendly": "2.4"}


@pytest.mark.e2e
def test_cci_cli_dependencies_upgrades_a_local_org_started_at_2_4(tmp_path, monkeypatch):
    """The command line of issue 12: `python -m localorg start --calendly-version 2.4`, then
    `cci flow run dependencies --org local`; the org then reports Calendly 2.5."""
    monkeypatch.setenv("LOCALORG_HOME", str(tmp_path / "home"))
    demo.localorg("start", "--fresh", "--calendly-version", "2.4")
    try:
        env = demo.register_env()
        assert installed_on(demo.connect(env)) == {"Calendly": "2.4"}
        demo.run([str(Path(sys.executable).parent / "cci"), "flow", "run", "dependencies",
                  "--org", demo.ORG_NAME], env=env)
        assert installed_on(demo.connect(env)) == {"Calendly": "2.5"}
        status = subprocess.run([sys.executable, "-m", "localorg", "status"], cwd=demo.ROOT,
                                capture_output=True, text=True)
        assert "Calendly 2.5," in status.stderr  # what the org reports now, not at start
    finally:
        demo.stop_org()
