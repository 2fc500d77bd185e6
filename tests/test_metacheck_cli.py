"""``python -m metacheck``: exit codes, text report and JSON report."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from metacheck.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "flows"
SERVICE_DELIVERY = CORPUS / "PMM__ServiceDelivery.flow-meta.xml"


def _broken(tmp_path: Path) -> Path:
    target = tmp_path / "Broken.flow-meta.xml"
    target.write_text(SERVICE_DELIVERY.read_text().replace(
        "<operator>EqualTo</operator>", "<operator>IN</operator>", 1))
    return target


@pytest.mark.corpus
def test_valid_files_exit_zero_with_text_report(capsys):
    assert main([str(CORPUS), "--checks", "schema"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[schema] ok - 13 file(s) against the Metadata API schema")
    assert "newer than the bundled schema (63.0)" in out
    assert out.rstrip().splitlines()[-1].startswith("metacheck PASSED: 0 error(s)")


@pytest.mark.corpus
def test_broken_file_exits_one_and_names_file_line_element(tmp_path, capsys):
    target = _broken(tmp_path)
    assert main([str(target), "--checks", "schema"]) == 1
    out = capsys.readouterr().out
    line = next(i for i, text in enumerate(target.read_text().splitlines(), 1)
                if "<operator>IN<" in text)
    assert (f"  ERROR   {target}:{line} <Flow/decisions(myDecision)/rules(myRule_1)/conditions"
            f"/operator>: 'IN' is not a valid FlowComparisonOperator for <operator>; did you "
            f"mean 'In'? [invalid-value]") in out
    assert "[schema] FAILED" in out
    assert out.rstrip().splitlines()[-1].startswith("metacheck FAILED: 1 error(s)")


@pytest.mark.corpus
def test_json_report(tmp_path, capsys):
    target = _broken(tmp_path)
    assert main([str(target), "--corpus", str(CORPUS), "--checks", "schema,flow-scanner",
                 "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False and result["errors"] == 1
    assert result["advisory"] > 0  # the corpus flows' scanner findings
    assert result["schema_api_version"] == "63.0"
    assert set(result["checks"]) == {"schema", "flow-scanner"}
    section = result["checks"]["schema"]
    assert section["ok"] is False and len(section["files"]) == 14
    assert isinstance(section["seconds"], float)
    error = next(f for f in section["findings"] if f["severity"] == "error")
    assert set(error) == {"check", "severity", "file", "message", "line", "element", "rule",
                          "gating"}
    assert error["file"] == str(target)
    scan = result["checks"]["flow-scanner"]
    assert scan["scanner_version"] == "6.6.0"
    assert {f["file"] for f in scan["flows"]} >= {str(target)}


def test_usage_errors_exit_two(tmp_path, capsys):
    assert main([str(tmp_path / "missing.flow-meta.xml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main([str(CORPUS), "--checks", "schema,lint"]) == 2
    assert "unknown check ['lint']" in capsys.readouterr().err
    assert main(["--project-dir", str(tmp_path)]) == 2
    assert "has no sfdx-project.json" in capsys.readouterr().err


@pytest.mark.sf_convert
def test_module_entry_point_checks_the_project():
    """The whole command as `make demo` runs it: every check on the project."""
    proc = subprocess.run([sys.executable, "-m", "metacheck", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    result = json.loads(proc.stdout)
    assert set(result["checks"]) == {"schema", "flow-scanner", "apex", "convert"}
    assert result["checks"]["apex"]["files"] == [
        "force-app-tests/main/default/classes/CalendlyScenariosTest.cls"]
    errors = [f for c in result["checks"].values() for f in c["findings"]
              if f["severity"] == "error" and f["gating"]]
    assert (proc.returncode, result["ok"], errors) == (0, True, [])
    files = result["checks"]["schema"]["files"]
    assert any(f.startswith("force-app/") for f in files)
    assert any(f.startswith("unpackaged/standin/") for f in files)
