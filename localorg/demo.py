"""`make demo`: the project's whole job, end to end, on the embedded local org.

1. start a fresh local org in the demo's own folder, `.localorg-demo/` (LOCALORG_DEMO_HOME
   overrides it), never the developer's `.localorg/`, and register it as cci org `local_demo`;
2. `cci flow run dev_org --org local_demo`: checks the Calendly package version, deploys the flows,
   activates the two subflows then CreateEventTemplate, patches the Event layout and loads
   datasets/local/ (stock load_sample_data); then converts the Leads listed in
   datasets/local/local.conversions.yml with the SOAP API's convertLead;
3. "books" the meetings of datasets/bookings.yml by inserting Calendly__CalendlyAction__c records
   through the REST API with simple-salesforce, as Calendly's package does (one record: sObject
   create; several: one sObject Collections call);
4. reads every Event and EventRelation back through SOQL, prints them as a table and compares
   them with the file's `expect.events`; ends with `DEMO PASSED: …` or exits non-zero;
5. stops the org (unless --keep-running). Each run starts its own org afresh (a demo org left
   running by --keep-running is stopped first), so re-runs give the same result.
"""

import argparse
import io
import os
import subprocess
import sys
from contextlib import contextmanager, nullcontext, redirect_stderr
from pathlib import Path

import requests
import yaml
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

from localorg.lead_conversion import ConversionError, convert_listed
from localorg.server.cadir import trust_path
from localorg.server.ccirun import cci_env
from localorg.server.tls import CERT

ROOT = Path(__file__).resolve().parent.parent
BOOKINGS = ROOT / "datasets" / "bookings.yml"
CONVERSIONS = ROOT / "datasets" / "local" / "local.conversions.yml"
ORG_NAME = "local"  # the cci org name `python -m localorg register` gives by default
DEMO_ORG = "local_demo"  # the demo's own: "local" is the developer's local org
API_VERSION = "63.0"
CHUNK = 200  # ids per IN list and records per Collections call (Salesforce's cap)
# Key prefixes of the records an EventRelation can point to (RelationId).
RELATION_TYPES = {"003": "Contact", "00Q": "Lead", "005": "User"}


class DemoFailure(Exception):
    """A step of the demo failed; the message says which and why."""


def run(cmd: list, env: dict | None = None, capture: bool = False) -> str:
    """Runs a command from the checkout; a non-zero exit is a DemoFailure naming the command."""
    result = subprocess.run(
        cmd, cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None,
    )
    if result.returncode:
        detail = (result.stderr or "").strip() if capture else ""
        raise DemoFailure(f"`{' '.join(cmd[:4])} …` exited with {result.returncode}. {detail}")
    return result.stdout or ""


def localorg(*args: str, capture: bool = False) -> None:
    """`python -m localorg ARGS`, run in this process (`localorg.cli.main`, with this process's
    environment): the commands load cci's keychain, which a new process would import CumulusCI
    and parse its configuration for again (about 0.4 s of CPU per command). A non-zero exit or
    an error raised is a DemoFailure naming the command; `capture` keeps its messages out of
    the output (they go into the DemoFailure)."""
    from localorg import cli

    messages = io.StringIO()
    command = " ".join([sys.executable, "-m", "localorg", *args][:4])
    with redirect_stderr(messages) if capture else nullcontext():
        try:
            code = cli.main(list(args))
        except SystemExit as exc:  # argparse refused the options
            code = exc.code
        except Exception as exc:  # as a command's process would have exited non-zero
            raise DemoFailure(f"`{command} …` failed: {type(exc).__name__}: {exc}. "
                              f"{messages.getvalue().strip()}") from exc
    if code:
        raise DemoFailure(f"`{command} …` exited with {code}. {messages.getvalue().strip()}")


def demo_home() -> Path:
    """The demo org's folder: never the developer's own local org."""
    return Path(os.environ.get("LOCALORG_DEMO_HOME") or ROOT / ".localorg-demo").resolve()


def local_home() -> Path:
    """The folder of the local org the `python -m localorg` commands of this process use."""
    return Path(os.environ.get("LOCALORG_HOME") or ROOT / ".localorg")


def register_env(name: str = ORG_NAME) -> dict:
    """Registers the running org as cci org `name` (saved in cci's keychain) and returns the
    environment cci runs in: the checkout's tools first on PATH, the org's certificate
    trusted and sf's telemetry and update checks off, as `bin/cci` sets them."""
    localorg("register", "--name", name, "--no-verify", capture=True)
    env = cci_env(dict(os.environ), Path(sys.executable).parent)
    env["REQUESTS_CA_BUNDLE"] = str(trust_path(local_home()))
    return env


@contextmanager
def fresh_org(home: Path, name: str = ORG_NAME):
    """A fresh local org in `home` (LOCALORG_HOME for this process while it runs), registered
    as cci org `name`; yields the environment cci runs in, and stops the org afterwards."""
    previous = os.environ.get("LOCALORG_HOME")
    os.environ["LOCALORG_HOME"] = str(home)
    try:
        localorg("start", "--fresh", capture=True)
        try:
            yield register_env(name)
        finally:
            stop_org()
    finally:
        if previous is None:
            os.environ.pop("LOCALORG_HOME", None)
        else:
            os.environ["LOCALORG_HOME"] = previous


def org_config(env: dict) -> dict:
    """instance_url and access_token of the running local org (from its folder)."""
    from localorg.cli import read_state, read_token

    folder = Path(env.get("LOCALORG_HOME") or ROOT / ".localorg")
    state = read_state(folder)
    if state is None:
        raise DemoFailure(f"the local org in {folder} is not running")
    return {"instance_url": state["url"], "access_token": read_token(folder)}


def run_dev_org(env: dict, name: str = ORG_NAME) -> None:
    """`cci flow run dev_org --org <name>`, output shown as it runs."""
    run([str(Path(sys.executable).parent / "cci"), "flow", "run", "dev_org", "--org", name],
        env=env)


def stop_org() -> None:
    """Stops the local org (`python -m localorg stop`, in this process); an org that is not
    running is fine, and a failure is only said (on stderr)."""
    from localorg import cli

    try:
        cli.main(["stop"])
    except Exception as exc:  # said only: the result of the step before it stands
        print(f"`python -m localorg stop` failed: {type(exc).__name__}: {exc}", file=sys.stderr)


def connect(env: dict) -> Salesforce:
    """A simple-salesforce session on the registered org (token-only, as cci uses it), trusting
    the local org's own certificate authority (REQUESTS_CA_BUNDLE from `register`)."""
    org = org_config(env)
    session = requests.Session()
    # The org's CA only: a REQUESTS_CA_BUNDLE inherited from this shell must not override it
    # (requests lets the environment win over session.verify unless trust_env is off).
    session.trust_env = False
    bundle = env.get("REQUESTS_CA_BUNDLE")
    own = Path(bundle).with_name(CERT) if bundle else None  # the org's certificate alone
    session.verify = str(own) if own and own.is_file() else (bundle or True)
    return Salesforce(instance_url=org["instance_url"], session_id=org["access_token"],
                      version=API_VERSION, session=session)


def chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def quoted(values) -> str:
    return ",".join("'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values)


def insert_bookings(sf: Salesforce, transactions: list) -> None:
    """Inserts each transaction as one API call, as Calendly does; any error is a DemoFailure."""
    for number, records in enumerate(transactions, 1):
        try:
            if len(records) == 1:
                sf.Calendly__CalendlyAction__c.create(records[0])
                continue
            body = {"allOrNone": True, "records": [
                {"attributes": {"type": "Calendly__CalendlyAction__c"}, **r} for r in records]}
            results = sf.restful("composite/sobjects", method="POST", json=body)
        except SalesforceError as err:
            raise DemoFailure(f"booking transaction {number} was refused: {err.content}") from err
        failed = [r for r in results if not r.get("success")]
        if failed:
            raise DemoFailure(f"booking transaction {number} was refused: {failed[0]['errors']}")


def emails_by_id(sf: Salesforce, ids) -> dict:
    """Id -> (lower-case email, sObject type) for Users, Contacts and Leads."""
    found = {}
    by_type = {}
    for record_id in {i for i in ids if i}:
        by_type.setdefault(RELATION_TYPES.get(record_id[:3], "?"), []).append(record_id)
    for sobject, type_ids in by_type.items():
        if sobject == "?":
            raise DemoFailure(f"unexpected record type for ids {type_ids[:3]}")
        for part in chunks(type_ids):
            soql = f"SELECT Id, Email FROM {sobject} WHERE Id IN ({quoted(part)})"
            for rec in sf.query_all(soql)["records"]:
                found[rec["Id"]] = ((rec["Email"] or "").lower(), sobject)
    return found


def fetch_events(sf: Salesforce, invitee_uuids: list) -> list:
    """The Events carrying these invitee uuids, with their EventRelations, in the scenario shape
    (not the child Events of User invitees: those are the invitees' copies)."""
    events = []
    for part in chunks(sorted(set(invitee_uuids))):
        soql = ("SELECT Id, Subject, ShowAs, OwnerId, WhoId, Calendly__InviteeUuid__c FROM Event "
                f"WHERE Calendly__InviteeUuid__c IN ({quoted(part)}) AND IsChild = false")
        events += sf.query_all(soql)["records"]
    relations = []
    for part in chunks([e["Id"] for e in events]):
        soql = ("SELECT EventId, RelationId, IsInvitee, IsParent FROM EventRelation "
                f"WHERE EventId IN ({quoted(part)})")
        relations += sf.query_all(soql)["records"]
    people = emails_by_id(sf, [e["OwnerId"] for e in events] + [e["WhoId"] for e in events]
                          + [r["RelationId"] for r in relations])
    by_event = {}
    for rel in relations:
        email, sobject = people[rel["RelationId"]]
        by_event.setdefault(rel["EventId"], []).append({
            "relation_email": email, "relation_type": sobject,
            "is_invitee": rel["IsInvitee"], "is_parent": rel["IsParent"]})
    return [{
        "invitee_uuid": e["Calendly__InviteeUuid__c"],
        "subject": e["Subject"],
        "owner_email": people[e["OwnerId"]][0],
        "who_email": people[e["WhoId"]][0] if e["WhoId"] else None,
        "show_as": e["ShowAs"],
        "participants": by_event.get(e["Id"], []),
    } for e in events]


def _participant_key(p: dict) -> tuple:
    return (p["relation_email"].lower(), p["relation_type"], bool(p["is_invitee"]),
            bool(p["is_parent"]))


def compare(expected: list, actual: list) -> list:
    """Differences between expected and actual Events, as readable lines (empty: they match)."""
    failures = []
    actual_by_uuid = {}
    for event in actual:
        actual_by_uuid.setdefault(event["invitee_uuid"], []).append(event)
    for uuid, events in actual_by_uuid.items():
        if len(events) > 1:
            failures.append(f"{uuid}: {len(events)} Events, expected at most one")
    expected_uuids = {e["invitee_uuid"] for e in expected}
    for uuid in sorted(set(actual_by_uuid) - expected_uuids):
        failures.append(f"{uuid}: unexpected Event")
    for exp in expected:
        uuid = exp["invitee_uuid"]
        if uuid not in actual_by_uuid:
            failures.append(f"{uuid}: no Event")
            continue
        got = actual_by_uuid[uuid][0]
        for field in ("subject", "owner_email", "who_email", "show_as"):
            if field in exp and exp[field] != got[field]:
                failures.append(f"{uuid}: {field} is {got[field]!r}, expected {exp[field]!r}")
        want = sorted(_participant_key(p) for p in exp.get("participants", []))
        have = sorted(_participant_key(p) for p in got["participants"])
        for missing in sorted(set(want) - set(have)):
            failures.append(f"{uuid}: missing participant {missing}")
        for extra in sorted(set(have) - set(want)):
            failures.append(f"{uuid}: unexpected participant {extra}")
        if len(have) != len(set(have)):
            failures.append(f"{uuid}: the same participant appears twice")
    return failures


def table(events: list) -> str:
    """The Events and their participants as a plain-text table."""
    lines = []
    for e in sorted(events, key=lambda e: e["invitee_uuid"]):
        lines.append(f"{e['invitee_uuid']}  {e['subject']!r}  [{e['show_as']}]  "
                     f"owner {e['owner_email']}  who {e['who_email'] or '-'}")
        lines.append(f"    {'participant':<28} {'type':<8} {'invitee':<8} parent")
        for p in sorted(e["participants"], key=_participant_key):
            lines.append(f"    {p['relation_email']:<28} {p['relation_type']:<8} "
                         f"{'yes' if p['is_invitee'] else 'no':<8} "
                         f"{'yes' if p['is_parent'] else 'no'}")
    return "\n".join(lines)


def load_bookings(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise DemoFailure(f"cannot read the bookings file {path}: {err}") from err
    if (not isinstance(data, dict) or not isinstance(data.get("transactions"), list)
            or not data["transactions"] or not isinstance(data.get("expect"), dict)
            or not isinstance(data["expect"].get("events"), list)):
        raise DemoFailure(f"{path} needs `transactions` and `expect.events` (see tests/scenarios)")
    for number, records in enumerate(data["transactions"], 1):
        if (not isinstance(records, list) or not records
                or not all(isinstance(r, dict) and r.get("Calendly__InviteeUuid__c")
                           for r in records)):
            raise DemoFailure(f"{path}: transaction {number} must be a list of booking records, "
                              "each with a Calendly__InviteeUuid__c")
    return data


def unmatched_report(sf: Salesforce, invitee_uuids: list) -> str:
    """The sync outcome the flow wrote on each booking (Sync_Status__c, Unmatched_Guest_*),
    read back from the org with SOQL through the REST API; a booking still Pending (the
    asynchronous path did not run) is a DemoFailure."""
    rows = []
    for part in chunks(invitee_uuids):
        rows += sf.query_all(
            "SELECT Name, Calendly__InviteeUuid__c, Sync_Status__c, Sync_Error__c, "
            "Unmatched_Guest_Count__c, Unmatched_Guest_Emails__c "
            f"FROM Calendly__CalendlyAction__c WHERE Calendly__InviteeUuid__c IN ({quoted(part)}) "
            "ORDER BY Id")["records"]
    pending = [r["Calendly__InviteeUuid__c"] for r in rows if r["Sync_Status__c"] == "Pending"]
    if pending:
        raise DemoFailure(f"bookings never synced (Sync_Status__c Pending): {pending}")
    lines = ["Unmatched guests per booking (from the bookings' own fields):"]
    for r in rows:
        count = int(r["Unmatched_Guest_Count__c"] or 0)
        detail = r["Unmatched_Guest_Emails__c"] if count else "none"
        if r["Sync_Status__c"] == "Failed":
            detail = f"FAILED: {r['Sync_Error__c']}"
        lines.append(f"  {r['Calendly__InviteeUuid__c']:<14} {r['Name']:<17} "
                     f"{r['Sync_Status__c']:<10} {count:>2}  {detail}")
    return "\n".join(lines)


def demo(bookings_path: Path) -> str:
    """Runs steps 2-4; returns the pass line or raises DemoFailure."""
    bookings = load_bookings(bookings_path)
    print(f"== Starting a fresh local org in {demo_home()} (cci org {DEMO_ORG}; the local org "
          f"in {ROOT / '.localorg'}, if any, is not touched)", flush=True)
    stop_org()
    localorg("start", "--fresh")
    env = register_env(DEMO_ORG)
    print(f"== cci flow run dev_org --org {DEMO_ORG}", flush=True)
    run_dev_org(env, DEMO_ORG)
    sf = connect(env)
    print("== Converting the sample Leads of datasets/local/local.conversions.yml", flush=True)
    try:
        convert_listed(sf, CONVERSIONS)
    except ConversionError as exc:
        raise DemoFailure(str(exc)) from None
    print(f"== Booking {sum(len(t) for t in bookings['transactions'])} meetings "
          f"in {len(bookings['transactions'])} API calls", flush=True)
    insert_bookings(sf, bookings["transactions"])
    expected = bookings["expect"]["events"]
    uuids = {r["Calendly__InviteeUuid__c"] for t in bookings["transactions"] for r in t}
    actual = fetch_events(sf, sorted(uuids))
    print(table(actual))
    print(unmatched_report(sf, sorted(uuids)))
    failures = compare(expected, actual)
    if failures:
        raise DemoFailure(f"the Events differ from {bookings_path}:\n  " + "\n  ".join(failures))
    count = sum(len(e["participants"]) for e in actual)
    return f"DEMO PASSED: {len(actual)} events, {count} participants as expected"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localorg.demo", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--bookings", type=Path, default=BOOKINGS,
                        help="bookings and expected Events (default datasets/bookings.yml)")
    parser.add_argument("--keep-running", action="store_true",
                        help="leave the demo org running, to open it in a browser")
    args = parser.parse_args(argv)
    own = {(ROOT / ".localorg").resolve(), local_home().resolve()}
    if demo_home() in own:
        parser.error(f"LOCALORG_DEMO_HOME is {demo_home()}, the folder of your own local org; "
                     "the demo replaces its org's data: give it another folder")
    os.environ["LOCALORG_HOME"] = str(demo_home())  # every `python -m localorg` of the demo
    try:
        print(demo(args.bookings))
        return 0
    except DemoFailure as err:
        print(f"DEMO FAILED: {err}", file=sys.stderr)
        return 1
    finally:
        if args.keep_running:
            print(f"The demo org is still running, as cci org {DEMO_ORG}. Open it in a browser: "
                  f"bin/cci org browser {DEMO_ORG}. Stop it: LOCALORG_HOME={demo_home()} "
                  ".venv/bin/python -m localorg stop (the next demo run also replaces it).")
        else:
            stop_org()
            print("The demo org is stopped. To keep it running for a look in the browser: "
                  "make demo DEMO_OPTIONS=--keep-running")


if __name__ == "__main__":
    sys.exit(main())
