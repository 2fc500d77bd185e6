"""Lightning Flow Scanner gate: the project's flows are clean, a seeded bad flow fails."""

import json
from pathlib import Path

import pytest
from lxml import etree

from metacheck import scanner
from metacheck.cli import main

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FLOWS = sorted((ROOT / "flows").glob("*.flow-meta.xml"))
SEEDED = ROOT / "tests" / "fixtures" / "metacheck" / "Seeded_Bad_Participants.flow-meta.xml"
REQUIRED_RULES = {"SOQLQueryInLoop", "DMLStatementInLoop", "ActionCallsInLoop",
                  "MissingFaultPath", "HardcodedId", "HardcodedUrl", "UnusedVariable",
                  "UnconnectedElement"}


def test_committed_config_runs_the_required_rules_as_errors():
    rules = json.loads((ROOT / scanner.CONFIG_NAME).read_text())["rules"]
    assert {name for name, cfg in rules.items() if cfg.get("severity") == "error"} >= \
        REQUIRED_RULES


def test_project_flows_have_no_scanner_errors():
    assert PROJECT_FLOWS, "flows/ has no *.flow-meta.xml: nothing would be scanned"
    report = scanner.scan(PROJECT_FLOWS, ROOT)
    assert report.scanner_version == "6.6.0"
    assert [f["name"] for f in report.flows] == [p.name.removesuffix(".flow-meta.xml")
                                                 for p in PROJECT_FLOWS]
    errors = [f for f in report.findings if f.severity == "error"]
    assert errors == []


def test_seeded_bad_flow_fails_naming_rule_element_and_line():
    report = scanner.scan([SEEDED], ROOT)
    found = {(f.rule, f.element) for f in report.findings if f.severity == "error"}
    assert {("SOQLQueryInLoop", "Get_Guest_Contact"),
            ("DMLStatementInLoop", "Create_Guest_Relation"),
            ("MissingFaultPath", "Get_Guest_Contact"),
            ("MissingFaultPath", "Create_Guest_Relation"),
            ("HardcodedId", "Get_Guest_Contact")} <= found
    lines = SEEDED.read_text().splitlines()
    for f in report.findings:
        assert f.gating
        assert lines[f.line - 1].strip() in ("<recordLookups>", "<recordCreates>")


def test_cli_gate_fails_on_the_seeded_flow(capsys):
    assert main([str(SEEDED), "--checks", "flow-scanner"]) == 1
    out = capsys.readouterr().out
    assert "[flow-scanner] FAILED" in out
    assert "SOQLQueryInLoop (error):" in out
    assert "Get_Guest_Contact line 42: SOQL Query In A Loop: recordLookups" in out


def test_corpus_findings_are_advisory(capsys):
    assert main(["--corpus", str(SEEDED), "--checks", "flow-scanner", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    findings = result["checks"]["flow-scanner"]["findings"]
    assert findings and not any(f["gating"] for f in findings)
    assert result["errors"] == 0


def test_unknown_rule_name_is_an_error_not_a_silent_skip(tmp_path):
    config = tmp_path / "rules.json"
    config.write_text(json.dumps({"rules": {"SOQLQueryInALoop": {"severity": "error"}}}))
    with pytest.raises(scanner.ScannerUnavailable, match="unknown Flow Scanner rule.*"
                       "SOQLQueryInALoop.*SOQLQueryInLoop"):
        scanner.scan([SEEDED], ROOT, config=config)


def test_unreadable_flow_is_reported(tmp_path):
    broken = tmp_path / "Broken.flow-meta.xml"
    broken.write_text("<Layout xmlns='http://soap.sforce.com/2006/04/metadata'/>")
    report = scanner.scan([broken], ROOT)
    assert [(f.rule, f.severity) for f in report.findings] == [("parse", "error")]


def test_project_flow_without_its_fault_path_fails(tmp_path):
    ns = {"md": "http://soap.sforce.com/2006/04/metadata"}
    source = ROOT / "flows" / "Create_Event_Template.flow-meta.xml"
    tree = etree.parse(str(source))
    fault = tree.find("md:recordCreates/md:faultConnector", ns)
    element = fault.getparent().findtext("md:name", namespaces=ns)
    fault.getparent().remove(fault)
    target = tmp_path / source.name
    tree.write(str(target), xml_declaration=True, encoding="UTF-8")
    report = scanner.scan([target], ROOT)
    assert [(f.rule, f.element) for f in report.findings if f.severity == "error"] == [
        ("MissingFaultPath", element)]
