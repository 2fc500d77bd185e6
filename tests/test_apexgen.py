"""The Apex test class generated from tests/scenarios (python -m tools.apexgen)."""

import re
import shutil
import subprocess
import sys

import yaml

from tools.apexgen.__main__ import CLASSES, ROOT, SCENARIOS, generate, stale
from tools.apexgen.render import COMMAND

CLASS = CLASSES / "CalendlyScenariosTest.cls"
METHOD = re.compile(r"@IsTest\n    static void (\w+)\(\)")


def test_checked_in_class_is_current():
    changed = stale(generate()["files"])
    assert not changed, (f"{[str(p.relative_to(ROOT)) for p in changed]} stale: the scenarios "
                         f"changed; run `{COMMAND}` and commit the result")


def test_one_method_per_expressible_scenario_plus_governor_test():
    result = generate()
    plans, source = result["plans"], CLASS.read_text()
    methods = METHOD.findall(source)
    expressible = [p for p in plans if not p.reason]
    assert len(plans) == len(list(SCENARIOS.glob("*.yml")))
    assert len(methods) == len(expressible) + 1
    assert "governorTwoHundredBookingsTenGuestsEach" in methods
    assert methods[0] == "scenario01BookingCreatesEventForContact"
    header = source.split("@IsTest", 1)[0]
    for plan in plans:
        assert (f"{plan.name}: " in header) == bool(plan.reason), plan.name
    # audit dates that order same-email records are what Apex test data cannot write
    assert {p.name[:2] for p in plans if p.reason} >= {"05", "13", "14"}


def test_stale_check_fails_naming_the_command_when_a_scenario_changes(tmp_path):
    scenarios = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS, scenarios)
    first = scenarios / "01_booking_creates_event_for_contact.yml"
    data = yaml.safe_load(first.read_text())
    data["expect"]["events"][0]["subject"] = "Another subject"
    first.write_text(yaml.safe_dump(data))
    files = generate(scenarios)["files"]
    assert stale(files) == [CLASS]
    assert "'subject' => 'Another subject'" in files[CLASS]
    proc = subprocess.run([sys.executable, "-m", "tools.apexgen", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stderr) == (0, "")


def _scenario(tmp_path, name, data):
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    (tmp_path / name).write_text(text)


def test_unknown_or_broken_scenarios_are_listed_not_fatal(tmp_path):
    good = yaml.safe_load((SCENARIOS / "01_booking_creates_event_for_contact.yml").read_text())
    _scenario(tmp_path, "01_good.yml", good)
    _scenario(tmp_path, "02_new_step.yml", {**good, "convert": [{"lead": "x"}]})
    event = {**good["expect"]["events"][0], "outcome": "created"}
    _scenario(tmp_path, "03_new_event_key.yml",
              {**good, "expect": {**good["expect"], "events": [event]}})
    _scenario(tmp_path, "04_not_yaml.yml", "org: [unclosed\n")
    _scenario(tmp_path, "05_list.yml", "- a\n- b\n")
    _scenario(tmp_path, "06_account.yml", {**good, "org": {"Account": [{"Name": "A"}]}})
    bad_time = [[{**good["transactions"][0][0], "Calendly__EventStartTime__c": "soon"}]]
    _scenario(tmp_path, "07_bad_time.yml", {**good, "transactions": bad_time})
    result = generate(tmp_path)
    reasons = {p.name: p.reason for p in result["plans"]}
    assert reasons["01_good.yml"] is None
    assert "top-level keys ['convert'] are unknown" in reasons["02_new_step.yml"]
    assert "keys ['outcome'] are unknown" in reasons["03_new_event_key.yml"]
    assert reasons["04_not_yaml.yml"].startswith("cannot read the file")
    assert reasons["05_list.yml"] == "not a mapping"
    assert "org object 'Account'" in reasons["06_account.yml"]
    assert "'soon' is not a UTC date-time" in reasons["07_bad_time.yml"]
    assert len(METHOD.findall(result["files"][CLASS])) == 2


def test_what_the_methods_say(tmp_path):
    source = CLASS.read_text()
    # the local org's running user is the Apex running user
    assert "'owner_email' => UserInfo.getUserEmail()" in source
    assert "'Calendly__EventStartTime__c' => Datetime.newInstanceGmt(2026, 3, 2, 10, 0, 0)" \
        in source
    # the scenario's ceilings (no scenario expects a failed booking insert any more: the flows
    # run after commit, and a failure is written on the booking instead)
    assert "new Map<String, Integer>{'dml' => 4, 'soql' => 5}" in source
    assert "'participants' => 'pat@client.test|Contact|false|true|Pat Client'" in source
    assert source.count("Test.startTest();") == source.count("Test.stopTest();")
    good = yaml.safe_load((SCENARIOS / "01_booking_creates_event_for_contact.yml").read_text())
    good["org"]["Contact"][0]["CreatedDate"] = "2025-01-10T00:00:00Z"
    _scenario(tmp_path, "01.yml", good)
    text = generate(tmp_path)["files"][CLASS]
    assert "List<SObject> org1 = insertOrg('Contact'" in text
    assert "Test.setCreatedDate(org1[0].Id, Datetime.newInstanceGmt(2025, 1, 10, 0, 0, 0));" \
        in text
    assert "LastModifiedDate" not in text.split("// ---- Governor test")[0].split("*/", 1)[1]


def test_booking_outcomes_are_asserted_and_org_settings_are_not_expressible(tmp_path):
    good = yaml.safe_load((SCENARIOS / "01_booking_creates_event_for_contact.yml").read_text())
    good["expect"]["bookings"] = {"inv-1": {"status": ["Synced"], "error_contains": "x"}}
    good["expect"]["unmatched"] = {"inv-1": ["B@Nowhere.test", "a@nowhere.test"]}
    _scenario(tmp_path, "01_outcomes.yml", good)
    _scenario(tmp_path, "02_no_shared_activities.yml",
              {**good, "settings": {"shared_activities": False}})
    _scenario(tmp_path, "03_async_errors.yml", {**good, "expect": {
        **good["expect"], "async_errors": [{"code": "FLOW_FAULT"}]}})
    result = generate(tmp_path)
    reasons = {p.name: p.reason for p in result["plans"]}
    assert reasons["01_outcomes.yml"] is None
    assert "cannot change org settings" in reasons["02_no_shared_activities.yml"]
    assert "cannot see which asynchronous" in reasons["03_async_errors.yml"]
    assert ("assertBookings(new List<Map<String, Object>>{\n"
            "                new Map<String, Object>{'invitee_uuid' => 'inv-1', "
            "'status' => 'Synced', 'error_contains' => 'x', "
            "'unmatched' => 'a@nowhere.test\\nb@nowhere.test'}") in result["files"][CLASS]


def test_convert_leads_become_database_convert_lead_calls(tmp_path):
    good = yaml.safe_load((SCENARIOS / "01_booking_creates_event_for_contact.yml").read_text())
    good["org"]["Lead"] = [{"LastName": "Lee", "Company": "Acme", "Email": "lee@acme.test"}]
    converted = {**good, "convert_leads": [{"lead": {"Email": "lee@acme.test"}},
                                           {"lead": {"Email": "lee@acme.test"},
                                            "contact": {"Email": "pat@client.test"}}]}
    _scenario(tmp_path, "01_convert.yml", converted)
    _scenario(tmp_path, "02_bad_convert.yml", {**good, "convert_leads": [{"lead": "x"}]})
    _scenario(tmp_path, "03_is_converted.yml", {**good, "org": {"Lead": [
        {"LastName": "Lee", "Company": "Acme", "IsConverted": True}]}})
    result = generate(tmp_path)
    reasons = {p.name: p.reason for p in result["plans"]}
    assert reasons["01_convert.yml"] is None
    assert "convert_leads lead is not a mapping" in reasons["02_bad_convert.yml"]
    assert "convert it with convert_leads" in reasons["03_is_converted.yml"]
    text = result["files"][CLASS]
    assert "convertLead(new Map<String, Object>{'Email' => 'lee@acme.test'}, null);" in text
    assert ("convertLead(new Map<String, Object>{'Email' => 'lee@acme.test'}, "
            "new Map<String, Object>{'Email' => 'pat@client.test'});") in text
    assert text.index("convertLead(") < text.index("Test.startTest();\n        runTransaction")
