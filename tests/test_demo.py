"""`make demo` end to end on the local org, and the demo's Event comparison."""

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from localorg.demo import (
    BOOKINGS,
    CONVERSIONS,
    DemoFailure,
    compare,
    connect,
    load_bookings,
    localorg,
    register_env,
    stop_org,
)
from localorg.lead_conversion import convert_listed
from tests.fixtures import inprocess
from tests.fixtures.checkout import copy_of_checkout

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = yaml.safe_load(BOOKINGS.read_text())["expect"]["events"]


@pytest.mark.e2e
def test_demo_books_the_sample_meetings_and_leaves_a_running_org_alone(tmp_path, monkeypatch):
    """The demo runs its org in its own folder, as cci org local_demo: the developer's running
    local org (and its registration as `local`) is untouched (issue 10: it was stopped and
    wiped). It runs in a copy of the checkout, so its dev_org's src/ is its own."""
    monkeypatch.setenv("LOCALORG_HOME", str(tmp_path / "own"))
    localorg("start", capture=True)
    try:
        localorg("register", "--no-verify", capture=True)
        before = (tmp_path / "own" / "server.json").read_text()
        env = dict(os.environ, LOCALORG_DEMO_HOME=str(tmp_path / "demo"))
        result = subprocess.run([sys.executable, "-m", "localorg.demo"],
                                cwd=copy_of_checkout(tmp_path / "checkout"), env=env,
                                text=True, capture_output=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert (tmp_path / "own" / "server.json").read_text() == before  # still running
        from localorg.server import ccireg

        assert (ccireg.local_org_home(ccireg.project_keychain(), "local")
                == tmp_path / "own")
    finally:
        stop_org()
    participants = sum(len(e["participants"]) for e in EXPECTED)
    assert (f"DEMO PASSED: {len(EXPECTED)} events, {participants} participants as expected"
            in result.stdout)
    assert f"== Starting a fresh local org in {tmp_path / 'demo'} (cci org local_demo" in (
        result.stdout)
    assert ("The demo org is stopped. To keep it running for a look in the browser: make demo "
            "DEMO_OPTIONS=--keep-running") in result.stdout
    # The table names every booking.
    for event in EXPECTED:
        assert event["invitee_uuid"] in result.stdout


def test_demo_refuses_to_use_the_developers_own_org_folder(tmp_path):
    env = dict(os.environ, LOCALORG_HOME=str(tmp_path), LOCALORG_DEMO_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "localorg.demo"], cwd=ROOT, env=env,
                            text=True, capture_output=True, timeout=60)
    assert result.returncode == 2
    assert (f"LOCALORG_DEMO_HOME is {tmp_path}, the folder of your own local org; the demo "
            "replaces its org's data: give it another folder") in result.stderr
    assert not (tmp_path / "server.json").exists()


@pytest.mark.e2e
def test_sample_data_loads_the_local_set_and_reloads_without_duplicates(tmp_path, monkeypatch):
    """Stock load_sample_data picks datasets/local/ (config_name local); a second load upserts.
    The task runs in this process (tests/fixtures/inprocess.py): its command line runs in
    `make demo`'s dev_org."""
    monkeypatch.setenv("LOCALORG_HOME", str(tmp_path / "localorg"))
    localorg("start", "--fresh", capture=True)
    try:
        env = register_env()
        counts = []
        with inprocess.cci(env) as (project, org):
            for _ in range(2):
                inprocess.run_task(project, org, "load_sample_data")
                sf = connect(env)
                counts.append({o: sf.query(f"SELECT COUNT() FROM {o}")["totalSize"]
                               for o in ("User", "Contact", "Lead")})
        convert_listed(sf, CONVERSIONS)
        assert convert_listed(sf, CONVERSIONS) == []  # converted Leads are skipped
        converted = sf.query("SELECT Email, ConvertedContactId FROM Lead "
                             "WHERE IsConverted = true ORDER BY Email")["records"]
        inactive = sf.query("SELECT Email FROM User WHERE IsActive = false")["records"]
    finally:
        stop_org()
    # 4 Users besides the org's admin, 6 Contacts, 4 Leads: the same after the second load.
    assert counts == [{"User": 5, "Contact": 6, "Lead": 4}] * 2
    assert [r["Email"] for r in converted] == ["tom@client.test", "uma@gone.test"]
    assert all(r["ConvertedContactId"] for r in converted)
    assert [r["Email"] for r in inactive] == ["dan.former@acme.test"]


def test_compare_accepts_the_expectation_itself():
    assert compare(EXPECTED, copy.deepcopy(EXPECTED)) == []


def _mutated(change):
    actual = copy.deepcopy(EXPECTED)
    change(actual)
    return compare(EXPECTED, actual)


@pytest.mark.parametrize("change, message", [
    (lambda a: a[0]["participants"].pop(), "missing participant"),
    (lambda a: a[1]["participants"].append(dict(a[1]["participants"][0], is_invitee=True)),
     "unexpected participant"),
    (lambda a: a[2]["participants"].append(a[2]["participants"][0]), "appears twice"),
    (lambda a: a.append(copy.deepcopy(a[0])), "2 Events"),
    (lambda a: a.pop(3), "no Event"),
    (lambda a: a[4].update(show_as="Busy"), "show_as"),
    (lambda a: a[3].update(owner_email="someone@else.test"), "owner_email"),
    (lambda a: a[0].update(invitee_uuid="stray"), "unexpected Event"),
])
def test_compare_reports_each_kind_of_difference(change, message):
    failures = _mutated(change)
    assert failures and any(message in f for f in failures), failures


@pytest.mark.parametrize("text", [
    "", "transactions: []\nexpect: {}\n", "[unclosed", "- a\n",
    "transactions: [[{Calendly__InviteeUuid__c: u1}]]\nexpect: {}\n",
    "transactions: [{Calendly__InviteeUuid__c: u1}]\nexpect: {events: []}\n",
    "transactions: [[{Name: invitee.created}]]\nexpect: {events: []}\n",
])
def test_bad_bookings_file_is_a_clear_error(tmp_path, text):
    path = tmp_path / "bookings.yml"
    path.write_text(text)
    with pytest.raises(DemoFailure, match="bookings"):
        load_bookings(path)


def test_missing_bookings_file_names_it(tmp_path):
    with pytest.raises(DemoFailure, match="nowhere.yml"):
        load_bookings(tmp_path / "nowhere.yml")


def test_a_failed_localorg_command_is_a_demo_failure_that_names_it(tmp_path, monkeypatch):
    """The demo's `python -m localorg` commands run in its own process: a refusal, by the
    command or by its option parser, still ends that step with the command and its message."""
    monkeypatch.setenv("LOCALORG_HOME", str(tmp_path))
    with pytest.raises(DemoFailure) as refused:
        localorg("register", capture=True)
    assert ("-m localorg register …` exited with 2. Error: localorg is not running; run "
            "`python -m localorg start` first.") in str(refused.value)
    with pytest.raises(DemoFailure) as bad:
        localorg("start", "--port", "http", capture=True)
    assert "-m localorg start …` exited with 2." in str(bad.value)
    assert "'http' is not a TCP port" in str(bad.value)
    assert not (tmp_path / "server.json").exists()


def test_a_localorg_command_that_breaks_is_a_demo_failure_that_names_it(tmp_path, monkeypatch,
                                                                        capsys):
    """An unexpected error inside an in-process `python -m localorg` command (a subprocess
    exited non-zero) still ends the step as a DemoFailure naming the command and the error;
    stopping the org afterwards only says what went wrong."""
    from localorg import cli

    def broken(args):
        raise OSError("No space left on device")

    monkeypatch.setenv("LOCALORG_HOME", str(tmp_path))
    monkeypatch.setattr(cli, "start", broken)
    with pytest.raises(DemoFailure) as failed:
        localorg("start", "--fresh", capture=True)
    assert "-m localorg start …` failed: OSError: No space left on device" in str(
        failed.value)
    monkeypatch.setattr(cli, "stop", broken)
    capsys.readouterr()
    stop_org()  # does not raise
    assert capsys.readouterr().err == (
        "`python -m localorg stop` failed: OSError: No space left on device\n")
