"""Every booking scenario in tests/scenarios/ passes on the local org; a wrong one fails."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from localorg import scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "tests" / "scenarios").glob("*.yml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(path):
    result = scenario.run(scenario.load(path))
    assert result["ok"], "\n".join(result["failures"])


def _cli(path):
    return subprocess.run([sys.executable, "-m", "localorg", "scenario", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_wrong_expectation_exits_non_zero(tmp_path):
    data = scenario.load(SCENARIOS[0])
    data["expect"]["events"][0]["subject"] = "Not the subject"
    data["expect"]["governor"] = {"soql": {"max": 1}}
    path = tmp_path / "wrong.yml"
    path.write_text(yaml.safe_dump(data))
    proc = _cli(path)
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["ok"] is False
    assert any("subject expected 'Not the subject'" in f for f in out["failures"])
    assert any("soql" in f and "exceeds max 1" in f for f in out["failures"])
    assert _cli(SCENARIOS[0]).returncode == 0


def test_unusable_file_exits_2(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("transactions: not-a-list\n")
    proc = _cli(path)
    assert proc.returncode == 2 and "'transactions' must be a list" in proc.stderr


def test_expected_error_must_happen():
    data = scenario.load(SCENARIOS[0])
    data["expect"]["errors"] = [{"code": "FIELD_CUSTOM_VALIDATION_EXCEPTION"}]
    result = scenario.run(data)
    assert not result["ok"] and "but it committed" in result["failures"][0]
