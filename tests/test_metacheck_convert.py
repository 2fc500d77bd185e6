"""sf project convert source: package.xml lists what the project ships.

Runs the real sf CLI (about 1-2 s each); select or skip with ``-m sf_convert``.
"""

import shutil
from pathlib import Path

import pytest

from metacheck import convert

pytestmark = pytest.mark.sf_convert
ROOT = Path(__file__).resolve().parents[1]


def test_project_converts_with_every_expected_member(tmp_path):
    result = convert.convert(ROOT, tmp_path / "mdapi")
    assert result.findings == []
    assert result.source_dirs == ["force-app", "flows", "force-app-tests",
                                  "unpackaged/standin/calendly"]
    members = result.members
    assert {"CreateEventTemplate", "Create_Event_Template",
            "Create_Event_Participant_Template"} <= set(members["Flow"])
    assert "Event-Event Layout" in members["Layout"]
    assert "Calendly__CalendlyAction__c" in members["CustomObject"]
    assert "Event.Calendly__InviteeUuid__c" in members["CustomField"]
    assert (tmp_path / "mdapi" / "flows" / "CreateEventTemplate.flow").is_file()
    assert members["ApexClass"] == ["CalendlyScenariosTest"]


def _copy_project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "sfdx-project.json", copy)
    for d in ("force-app", "flows", "force-app-tests", "unpackaged/standin"):
        shutil.copytree(ROOT / d, copy / d)
    (copy / "node_modules").symlink_to(ROOT / "node_modules")
    return copy


def test_missing_flow_is_reported(tmp_path):
    copy = _copy_project(tmp_path)
    (copy / "flows" / "Create_Event_Template.flow-meta.xml").unlink()
    result = convert.convert(copy, tmp_path / "out")
    assert [f.message for f in result.findings] == [
        "package.xml does not list Flow 'Create_Event_Template' "
        "(a component this project must ship)"]


def test_component_sf_leaves_out_is_reported(tmp_path):
    copy = _copy_project(tmp_path)
    extra = ROOT / "tests" / "fixtures" / "metacheck" / "Seeded_Bad_Participants.flow-meta.xml"
    shutil.copy(extra, copy / "flows")
    (copy / ".forceignore").write_text("**/Seeded_Bad_Participants.flow-meta.xml\n")
    result = convert.convert(copy, tmp_path / "out")
    assert [f.message for f in result.findings] == [
        "package.xml does not list Flow 'Seeded_Bad_Participants' (found in the source tree)"]


def test_sf_failure_is_reported_with_its_message(tmp_path):
    copy = _copy_project(tmp_path)
    shutil.rmtree(copy / "flows")
    result = convert.convert(copy, tmp_path / "out")
    assert len(result.findings) == 1
    assert "package directory" in result.findings[0].message
    assert "flows" in result.findings[0].message
