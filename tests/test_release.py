"""Release: one version everywhere, and the deploy manifests list exactly what the project has."""

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from lxml import etree

from metacheck.convert import SF_ENV

ROOT = Path(__file__).resolve().parents[1]
MD = "{http://soap.sforce.com/2006/04/metadata}"


def test_one_version_in_pyproject_package_json_and_the_changelog():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert json.loads((ROOT / "package.json").read_text())["version"] == version
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["version"] == lock["packages"][""]["version"] == version
    newest = re.search(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.M).group(1)
    assert newest == version
    config = yaml.safe_load((ROOT / "cumulusci.yml").read_text())
    assert config["project"]["git"]["prefix_release"] == "v"


def members(path: Path) -> dict:
    root = etree.parse(str(path)).getroot()
    return {t.findtext(f"{MD}name"): sorted(m.text for m in t.findall(f"{MD}members"))
            for t in root.findall(f"{MD}types")}


def test_manifests_list_the_projects_flows_and_the_generated_test_class():
    flows = sorted(p.name.removesuffix(".flow-meta.xml")
                   for p in (ROOT / "flows").glob("*.flow-meta.xml"))
    classes = sorted(p.stem for p in (ROOT / "force-app-tests").rglob("*.cls"))
    objects = ROOT / "force-app" / "main" / "default" / "objects"
    fields = sorted(f"{p.parent.parent.name}.{p.name.removesuffix('.field-meta.xml')}"
                    for p in objects.glob("*/fields/*.field-meta.xml"))
    views = sorted(f"{p.parent.parent.name}.{p.name.removesuffix('.listView-meta.xml')}"
                   for p in objects.glob("*/listViews/*.listView-meta.xml"))
    expected = {"Flow": flows, "ApexClass": classes, "CustomField": fields, "ListView": views}
    assert members(ROOT / "manifest" / "package.xml") == expected
    assert members(ROOT / "manifest" / "destructiveChanges.xml") == expected
    assert members(ROOT / "manifest" / "package-empty.xml") == {}
    api = json.loads((ROOT / "sfdx-project.json").read_text())["sourceApiVersion"]
    for name in ("package.xml", "destructiveChanges.xml", "package-empty.xml"):
        assert etree.parse(str(ROOT / "manifest" / name)).findtext(f"{MD}version") == api


@pytest.mark.sf_convert
def test_sf_resolves_the_manifest_from_the_package_directories(tmp_path):
    """What `sf project deploy start --manifest manifest/package.xml` sends, built offline."""
    env = {**os.environ, **SF_ENV,
           "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"}
    out = tmp_path / "mdapi"
    proc = subprocess.run(["sf", "project", "convert", "source", "--manifest",
                           "manifest/package.xml", "--output-dir", str(out), "--json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == ["classes/CalendlyScenariosTest.cls",
                     "classes/CalendlyScenariosTest.cls-meta.xml",
                     "flows/CreateEventTemplate.flow",
                     "flows/Create_Event_Participant_Template.flow",
                     "flows/Create_Event_Template.flow",
                     "objects/Calendly__CalendlyAction__c.object", "package.xml"]
