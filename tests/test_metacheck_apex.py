"""The Apex check: @apexdevtools/apex-parser through `python -m metacheck`, file/line/rule."""

import json
import subprocess
import sys
from pathlib import Path

from metacheck import apex

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "force-app-tests/main/default/classes/CalendlyScenariosTest.cls"


def test_generated_test_class_parses():
    version, findings = apex.parse([GENERATED], ROOT)
    assert version == "5.2.0"
    assert findings == []


def test_syntax_error_names_file_line_and_rule(tmp_path):
    bad = tmp_path / "Broken.cls"
    bad.write_text("public class Broken {\n    void m() {\n        Integer x = ;\n    }\n}\n")
    trigger = tmp_path / "Bad.trigger"
    trigger.write_text("trigger Bad on Contact (after insert) { insert }\n")
    _, findings = apex.parse([bad, trigger], ROOT)
    by_file = {Path(f.file).name: f for f in findings}
    assert set(by_file) == {"Broken.cls", "Bad.trigger"}
    assert (by_file["Broken.cls"].line, by_file["Broken.cls"].rule) == (3, "apex-syntax")
    assert by_file["Broken.cls"].message.startswith("column 20: ")


def test_cli_fails_on_a_broken_class_naming_it(tmp_path):
    bad = tmp_path / "Broken.cls"
    bad.write_text("public class Broken { void m() { Integer x = ; } }\n")
    proc = subprocess.run([sys.executable, "-m", "metacheck", str(bad), "--checks", "apex",
                           "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    result = json.loads(proc.stdout)
    assert proc.returncode == 1
    [finding] = result["checks"]["apex"]["findings"]
    assert (finding["file"], finding["line"], finding["rule"]) == (str(bad), 1, "apex-syntax")
