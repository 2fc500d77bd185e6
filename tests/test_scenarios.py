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


def _scenario(prefix):
    return scenario.load(next(p for p in SCENARIOS if p.name.startswith(prefix)))


def _participant(data, email):
    return next(p for p in data["expect"]["events"][0]["participants"]
                if p["relation_email"] == email)


def test_wrong_relation_name_fails():
    data = _scenario("13_")
    _participant(data, "bob@acme.test")["relation_name"] = "Bob Last"
    result = scenario.run(data)
    assert result["failures"] == [
        "Event inv-1: participant bob@acme.test (Contact) relation_name expected 'Bob Last', "
        "got 'Bob Current'"]


def test_wrong_who_name_fails():
    data = _scenario("05_")
    data["expect"]["events"][0]["who_name"] = "Pat Last"
    result = scenario.run(data)
    assert result["failures"] == ["Event inv-1: who_name expected 'Pat Last', got 'Pat Current'"]


def test_other_same_email_winner_is_caught_only_by_name():
    """When another twin is the most recently modified, email, type and flags are unchanged: only
    relation_name tells the expectation that the wrong record was related."""
    data = _scenario("13_")
    twin = next(c for c in data["org"]["Contact"] if c["LastName"] == "Last")
    twin["LastModifiedDate"] = "2026-03-01T00:00:00Z"
    result = scenario.run(data)
    assert result["failures"] == [
        "Event inv-1: participant bob@acme.test (Contact) relation_name expected 'Bob Current', "
        "got 'Bob Last'"]
    del _participant(data, "bob@acme.test")["relation_name"]
    assert scenario.run(data)["ok"]


@pytest.mark.parametrize("change, message", [
    ({"relation_nam": "Bob"}, r"participant: unknown key\(s\) \['relation_nam'\]; allowed keys: "
                              r"\['is_invitee', 'is_parent', 'relation_email', 'relation_name'"),
    ({"is_parent": None}, r"participant: missing key\(s\) \['is_parent'\]"),
], ids=["unknown key", "missing key"])
def test_bad_participant_keys_are_unusable(tmp_path, change, message):
    data = _scenario("13_")
    part = _participant(data, "bob@acme.test")
    for key, value in change.items():
        if value is None:
            del part[key]
        else:
            part[key] = value
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(scenario.ScenarioError, match=message):
        scenario.load(path)


def test_misspelled_event_key_is_named(tmp_path):
    """`owner_emial` is reported as an unknown key with the allowed ones, not as a missing
    invitee_uuid (issue 10)."""
    data = _scenario("01_")
    event = data["expect"]["events"][0]
    event["owner_emial"] = event.pop("owner_email")
    path = tmp_path / "typo.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.load(path)
    text = str(err.value)
    assert "expected event 1: unknown key(s) ['owner_emial']; allowed keys: [" in text
    assert "'owner_email'" in text and "invitee_uuid" not in text.split("allowed")[0]


@pytest.mark.parametrize("expect", [
    {"governor": {"soql": 7}},
    {"governor": {"soql": {}}},
    {"governor": {"soql": {"max": "7"}}},
    {"governor": {"queries": {"max": 7}}},
    {"errors": ["FIELD_CUSTOM_VALIDATION_EXCEPTION"]},
    {"errors": [{"cod": "X"}]},
    {"unmatched": ["a@b.test"]},
], ids=["bare number", "no max", "text max", "unknown metric", "error as text",
        "unknown error key", "unmatched as list"])
def test_malformed_expectations_are_unusable(tmp_path, expect):
    data = _scenario("01_")
    data["expect"] = expect
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(scenario.ScenarioError, match="expect"):
        scenario.load(path)


def test_generated_bulk_scenario_expands_to_every_booking():
    data = _scenario("36_")
    (bookings,) = data["transactions"]
    assert [b["Calendly__InviteeUuid__c"] for b in bookings[:2]] == ["inv-001", "inv-002"]
    assert len(bookings) == len(data["expect"]["events"]) == 200
    assert len(data["org"]["Contact"]) == 201 and data["org"]["Contact"][-1]["Email"] == (
        "c200@bulk.test")
    assert data["expect"]["unmatched"]["inv-200"] == ["x200@nowhere.test"]
    assert data["expect"]["events"][199]["participants"][2]["relation_name"] == "C200 Guest"


@pytest.mark.parametrize("generate, message", [
    ({"count": 0, "transaction": []}, "generate.count: a whole number from 1 to 10000; got 0"),
    ({"count": 2, "bookings": []}, "generate: a mapping with count and any of"),
    ({"count": 2, "transaction": [{"Name": "inv-{i}"}]}, "uses ['i']; only {n} is known"),
    ({"count": 2, "org": {"Contact": {"LastName": "x"}}}, "generate.org.Contact: a list"),
], ids=["zero count", "unknown key", "unknown placeholder", "org not a list"])
def test_a_bad_generate_block_is_named(tmp_path, generate, message):
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump({"generate": generate, "expect": {}}))
    with pytest.raises(scenario.ScenarioError) as err:
        scenario.load(path)
    assert message in str(err.value)


@pytest.mark.parametrize("step, message", [
    ([{"lead": {"Email": "nobody@x.test"}}], "0 Lead records match"),
    ([{"lead": {"Email": "lee@x.test"}, "contact": {"Email": "nobody@x.test"}}],
     "0 Contact records match"),
    ([{"lead": {"Email": "lee@x.test"}, "account": {}}], "keys are 'lead'"),
])
def test_a_convert_leads_step_that_cannot_run_is_named(step, message):
    data = {"org": {"Lead": [{"LastName": "Lee", "Company": "Acme", "Email": "lee@x.test"}]},
            "convert_leads": step, "transactions": []}
    with pytest.raises(scenario.ScenarioError, match=message):
        scenario.run(data)


def test_a_scenario_cannot_write_is_converted():
    data = {"org": {"Lead": [{"LastName": "Lee", "Company": "Acme", "IsConverted": True}]},
            "transactions": []}
    with pytest.raises(scenario.ScenarioError, match="NOT_IMPLEMENTED"):
        scenario.run(data)
