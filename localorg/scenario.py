"""Booking scenarios: run a tests/scenarios/*.yml file on a fresh local org and check it.

`python -m localorg scenario FILE` builds a fresh in-memory org with the Calendly stand-in
installed, deploys every flow in the project's flows/ and activates CreateEventTemplate, creates the
scenario's org records (one insert per object, in file order), then inserts each transaction's
Calendly__CalendlyAction__c records in ONE transaction. It prints JSON
`{events, unmatched, transactions: [{error, soql, dml, rows, dml_rows, async: [...]}], ok,
failures}` (`async`: the asynchronous flow transactions that ran after it committed) and exits
1 when an expectation fails, 2 when the file itself is unusable. The format is documented in
tests/scenarios/README.md.
"""

import json
import sys
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import yaml
from lxml import etree

from localorg import scenario_setup as setup
from localorg.backend import Org, flow_refs
from localorg.backend.deploy import field_exists
from localorg.calendly import BOOKING, INVITEE_UUID, ROOT, local_org
from localorg.conditions import Cmp
from localorg.errors import SalesforceError
from localorg.scenario_generate import GenerateError, expand

TRIGGER_FLOW = "CreateEventTemplate"
TOP_KEYS = {"description", "settings", "org", "convert_leads", "transactions", "expect"}
SETTINGS_KEYS = {"shared_activities"}  # org settings a scenario may choose (backend/settings.py)
EXPECT_KEYS = {"events", "unmatched", "errors", "async_errors", "governor", "bookings"}
BOOKING_EXPECT_KEYS = {"status", "error_contains"}
# The project's outcome fields on the booking (force-app), read back after every transaction.
OUTCOME_FIELDS = ["Sync_Status__c", "Sync_Error__c", "Unmatched_Guest_Emails__c",
                  "Unmatched_Guest_Count__c"]
EVENT_KEYS = {"invitee_uuid", "subject", "owner_email", "who_email", "who_name", "show_as",
              "participants", "start", "end", "description", "location"}
PARTICIPANT_KEYS = ("relation_email", "relation_type", "is_invitee", "is_parent")  # exact set
OPTIONAL_PARTICIPANT_KEYS = ("relation_name",)  # compared only where the expectation gives it
GOVERNOR_KEYS = {"soql", "dml", "rows", "dml_rows"}


class ScenarioError(Exception):
    """The scenario file is unusable (not the flows' fault); the message says what to fix."""


def check_keys(path, where: str, value, allowed: set, required: set = frozenset()) -> None:
    """A mapping with only `allowed` keys and every `required` one; the error names the bad or
    missing keys, the allowed ones and what was given, so a misspelling reads as one."""
    if not isinstance(value, dict):
        raise ScenarioError(f"{path}: {where} must be a mapping with keys {sorted(allowed)}; "
                            f"got {value!r}")
    unknown = sorted(set(value) - set(allowed), key=str)
    if unknown:
        raise ScenarioError(f"{path}: {where}: unknown key(s) {unknown}; allowed keys: "
                            f"{sorted(allowed)}. Fix the spelling (see tests/scenarios/README.md).")
    missing = sorted(set(required) - set(value))
    if missing:
        raise ScenarioError(f"{path}: {where}: missing key(s) {missing} (required: "
                            f"{sorted(required)}); got {value!r}")


# libyaml's safe loader where PyYAML was built with it (about 6x faster on large scenarios).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(path) -> dict:
    path = Path(path)
    try:
        data = yaml.load(path.read_text(), Loader=_LOADER)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: cannot read scenario: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario is a mapping with keys {sorted(TOP_KEYS)}")
    try:
        data = expand(data)
    except GenerateError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    check_keys(path, "the scenario", data, TOP_KEYS)
    if not isinstance(data.get("transactions"), list) or not all(
            isinstance(t, list) for t in data["transactions"]):
        raise ScenarioError(f"{path}: 'transactions' must be a list of lists of booking records")
    if not isinstance(data.get("org") or {}, dict):
        raise ScenarioError(f"{path}: 'org' maps an object name to a list of records")
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        raise ScenarioError(f"{path}: 'settings' maps an org setting {sorted(SETTINGS_KEYS)} to "
                            "its value, e.g. {shared_activities: false}")
    check_keys(path, "settings", settings, SETTINGS_KEYS)
    if not all(isinstance(v, bool) for v in settings.values()):
        raise ScenarioError(f"{path}: settings.shared_activities is true or false")
    expect = data.get("expect") or {}
    check_keys(path, "expect", expect, EXPECT_KEYS)
    for number, ev in enumerate(expect.get("events") or [], 1):
        check_keys(path, f"expected event {number}", ev, EVENT_KEYS, required={"invitee_uuid"})
        for part in ev.get("participants") or []:
            check_keys(path, f"event {ev['invitee_uuid']}: participant", part,
                       set(PARTICIPANT_KEYS) | set(OPTIONAL_PARTICIPANT_KEYS),
                       required=set(PARTICIPANT_KEYS))
    governor = expect.get("governor") or {}
    if not isinstance(governor, dict) or set(governor) - GOVERNOR_KEYS or not all(
            isinstance(b, dict) and set(b) == {"max"} and isinstance(b["max"], int)
            for b in governor.values()):
        raise ScenarioError(f"{path}: expect.governor maps a metric {sorted(GOVERNOR_KEYS)} to "
                            f"{{max: N}}, e.g. {{soql: {{max: 10}}}}; got {governor!r}")
    if not isinstance(expect.get("unmatched") or {}, dict):
        raise ScenarioError(f"{path}: expect.unmatched maps an invitee uuid to a list of emails")
    for uuid, want in (expect.get("bookings") or {}).items():
        if (not isinstance(want, dict) or set(want) - BOOKING_EXPECT_KEYS
                or not isinstance(want.get("status", []), list)):
            raise ScenarioError(f"{path}: expect.bookings maps an invitee uuid to {{status: [one "
                                f"Sync_Status__c per booking with that uuid, in insert order], "
                                f"error_contains: text}}; got {uuid}: {want!r}")
    errors = expect.get("errors")
    if errors is not None and (not isinstance(errors, list) or not all(
            e is None or isinstance(e, dict) and set(e) <= {"code", "message_contains"}
            for e in errors)):
        raise ScenarioError(f"{path}: expect.errors is a list with one entry per transaction: "
                            "null (commits) or {code: ..., message_contains: ...}")
    async_errors = expect.get("async_errors")
    if async_errors is not None and (not isinstance(async_errors, list) or not all(
            isinstance(e, dict) and e and set(e) <= {"code", "message_contains"}
            for e in async_errors)):
        raise ScenarioError(f"{path}: expect.async_errors is a list of "
                            "{code: ..., message_contains: ...}, one per asynchronous "
                            "transaction expected to fail")
    if errors is not None and len(errors) != len(data["transactions"]):
        raise ScenarioError(f"{path}: expect.errors has {len(errors)} entries for "
                            f"{len(data['transactions'])} transactions (one per transaction)")
    return data


def new_org(flows_dir=None, calendly_version="2.5", shared_activities=True) -> Org:
    """A fresh in-memory org with the project's flows deployed and CreateEventTemplate active."""
    org = local_org(version=calendly_version, shared_activities=shared_activities)
    org.install_source(ROOT / "force-app" / "main" / "default")  # the project's booking fields
    flows_dir = Path(flows_dir or ROOT / "flows")
    paths = sorted(flows_dir.glob("*.flow-meta.xml"))
    if not paths:
        raise ScenarioError(f"no *.flow-meta.xml in {flows_dir}")
    for path in paths:
        # Refused as a Metadata API deploy refuses it: a field the org lacks (say IsParent
        # without Shared Activities) is a deploy error, not a fault when the flow runs.
        found = flow_refs.problems(etree.fromstring(path.read_bytes()),
                                   lambda obj, name: field_exists(org, {}, obj, name))
        if found:
            raise ScenarioError(f"{path.name} can't be deployed to this org: "
                                + "; ".join(f"line {line}: {text}" for text, line in found))
        org.deploy_flow(path.name[: -len(".flow-meta.xml")], path.read_bytes())
    trigger = next((f for f in org.flows() if f["name"] == TRIGGER_FLOW), None)
    if trigger is None:
        raise ScenarioError(f"{flows_dir} has no {TRIGGER_FLOW}.flow-meta.xml")
    org.activate_flow(TRIGGER_FLOW, trigger["latest_version"])
    return org


def jsonable(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def run(data: dict, flows_dir=None) -> dict:
    """Run a loaded scenario; return the result (see module docstring), ok and failures."""
    org = new_org(flows_dir, **(data.get("settings") or {}))
    try:
        setup.create_records(org, data.get("org") or {})
        setup.convert(org, data.get("convert_leads") or [])
    except setup.SetupError as exc:
        raise ScenarioError(str(exc)) from None
    transactions = []
    async_runs = org.flow_trigger.async_paths.runs
    for bookings in data["transactions"]:
        entry = {"error": None}
        queued = len(async_runs)
        try:
            with org.transaction() as txn:
                try:
                    txn.insert(BOOKING, bookings)
                finally:
                    usage = txn.usage.as_dict()
        except SalesforceError as exc:
            entry["error"] = {"code": exc.code, "message": exc.message}
        entry.update(governor(usage))
        entry["async"] = []  # the asynchronous transactions that ran after this one committed
        for run_ in async_runs[queued:]:
            entry["async"].append({"flow": run_["flow"], "records": len(run_["records"]),
                                   "error": run_["error"], **governor(run_["usage"])})
        transactions.append(entry)
    booked = booking_outcomes(org)
    result = {"events": events(org), "bookings": booked, "unmatched": unmatched_of(booked),
              "transactions": transactions}
    result["failures"] = check(data.get("expect") or {}, result)
    result["ok"] = not result["failures"]
    return result


def governor(usage) -> dict:
    """A transaction's usage under the scenario's metric names."""
    return {"soql": usage["soql"], "dml": usage["dml"], "rows": usage["query_rows"],
            "dml_rows": usage["dml_rows"]}


def booking_outcomes(org) -> list:
    """Every booking, in insert order, with the outcome the flow wrote on it (one query)."""
    with org.transaction() as txn:
        rows = txn.query(BOOKING, ["Id", "Name", "Calendly__InviteeUuid__c", *OUTCOME_FIELDS],
                         order_by=[("Id", False, None)])
    out = []
    for row in rows:
        text = row["Unmatched_Guest_Emails__c"] or ""
        out.append({"invitee_uuid": row["Calendly__InviteeUuid__c"], "name": row["Name"],
                    "sync_status": row["Sync_Status__c"], "sync_error": row["Sync_Error__c"],
                    "unmatched": [e for e in text.split(", ") if e],
                    "unmatched_count": jsonable(row["Unmatched_Guest_Count__c"])})
    return out


def unmatched_of(booked) -> dict:
    """Unmatched emails per invitee uuid, as written on the booking that made its Event."""
    out = {}
    for b in booked:
        if b["sync_status"] == "Synced" and b["invitee_uuid"] not in out:
            out[b["invitee_uuid"]] = b["unmatched"]
    return out


def events(org) -> list:
    """Every Event with its EventRelations: two queries in all (Events, then the relations of all
    of them with `EventId IN`), so the report stays within the governor limits however many
    bookings the scenario makes."""
    # Without Shared Activities EventRelation has no IsParent (is_parent: null); child Events
    # (a User invitee's copy, IsChild) are not the booking's Event.
    has_parent = org.describe("EventRelation").has("IsParent")
    parents = Cmp("IsChild", "=", False) if org.describe("Event").has("IsChild") else None
    with org.transaction() as txn:
        rows = txn.query("Event", ["Id", INVITEE_UUID, "Subject", "Owner.Email",
                                   "Who.Email", "Who.Name", "ShowAs", "StartDateTime",
                                   "EndDateTime", "Description", "Location"], where=parents)
        rels_by_event = {row["Id"]: [] for row in rows}
        if rows:
            for rel in txn.query("EventRelation",
                                 ["EventId", "Relation.Email", "Relation.Type", "Relation.Name",
                                  "IsInvitee"] + ["IsParent"] * has_parent,
                                 where=Cmp("EventId", "IN", list(rels_by_event))):
                rels_by_event[rel["EventId"]].append(rel)
    out = []
    for row in rows:
        who = row["Who"] or {}
        out.append({
            "invitee_uuid": row[INVITEE_UUID],
            "subject": row["Subject"],
            "owner_email": (row["Owner"] or {}).get("Email"),
            "who_email": who.get("Email"),
            "who_name": who.get("Name"),
            "show_as": row["ShowAs"],
            "start": row["StartDateTime"],
            "end": row["EndDateTime"],
            "description": row["Description"],
            "location": row["Location"],
            "participants": sorted(
                ({"relation_email": (r["Relation"] or {}).get("Email"),
                  "relation_type": (r["Relation"] or {}).get("Type"),
                  "relation_name": (r["Relation"] or {}).get("Name"),
                  "is_invitee": r["IsInvitee"], "is_parent": r.get("IsParent")}
                 for r in rels_by_event[row["Id"]]),
                key=lambda p: (p["relation_email"] or "", p["relation_type"])),
        })
    return sorted(out, key=lambda e: e["invitee_uuid"] or "")


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _participant_key(p):
    return tuple(_lower(p.get(k)) for k in PARTICIPANT_KEYS)


def _check_participants(uuid, want, got) -> list:
    """The exact multiset of PARTICIPANT_KEYS; then each expected relation_name, where given, must
    be the name of the related record (which of two same-email records won)."""
    want_keys = Counter(_participant_key(p) for p in want)
    got_keys = Counter(_participant_key(p) for p in got)
    if want_keys != got_keys:
        missing = sorted((want_keys - got_keys).elements(), key=str)
        extra = sorted((got_keys - want_keys).elements(), key=str)
        return [f"Event {uuid}: participants differ; missing {missing}, unexpected {extra} "
                f"(fields {PARTICIPANT_KEYS})"]
    failures = []
    for p in want:
        if "relation_name" not in p:
            continue
        names = [g["relation_name"] for g in got if _participant_key(g) == _participant_key(p)]
        if p["relation_name"] not in names:
            failures.append(f"Event {uuid}: participant {p['relation_email']} "
                            f"({p['relation_type']}) relation_name expected "
                            f"{p['relation_name']!r}, got {', '.join(map(repr, names))}")
    return failures


def _check_bookings(want, booked) -> list:
    """Each booking's count must match its unmatched list; expected statuses per uuid, in
    insert order; expected error text on every booking of that uuid."""
    failures = [f"booking {b['invitee_uuid']}: Unmatched_Guest_Count__c {b['unmatched_count']} "
                f"but {len(b['unmatched'])} emails in Unmatched_Guest_Emails__c"
                for b in booked if (b["unmatched_count"] or 0) != len(b["unmatched"])]
    for uuid, exp in want.items():
        mine = [b for b in booked if b["invitee_uuid"] == uuid]
        got = [b["sync_status"] for b in mine]
        if "status" in exp and got != exp["status"]:
            failures.append(f"bookings {uuid}: Sync_Status__c expected {exp['status']}, got {got}")
        text = exp.get("error_contains")
        for b in mine if text else []:
            if text not in (b["sync_error"] or ""):
                failures.append(f"booking {uuid}: Sync_Error__c lacks {text!r}: "
                                f"{b['sync_error']!r}")
    return failures


def check(expect: dict, result: dict) -> list:
    """Compare expectations with the result; return human-readable failures."""
    failures = []
    if "events" in expect:
        want = {e["invitee_uuid"]: e for e in expect["events"] or []}
        got = {}
        for e in result["events"]:
            if e["invitee_uuid"] in got:
                failures.append(f"two Events have invitee uuid {e['invitee_uuid']}")
            got[e["invitee_uuid"]] = e
        if sorted(map(str, want)) != sorted(map(str, got)):
            failures.append(f"Events by invitee uuid: expected {sorted(map(str, want))}, "
                            f"got {sorted(map(str, got))}")
        for uuid, exp in want.items():
            actual = got.get(uuid)
            if actual is None:
                continue
            for key, value in exp.items():
                if key in ("invitee_uuid", "participants"):
                    continue
                if key.endswith("_email") and _lower(actual[key]) == _lower(value):
                    continue
                if key in ("start", "end") and value is not None and actual[key]:
                    if str(actual[key])[:19] == str(value).replace("Z", "")[:19]:
                        continue
                if actual[key] != value:
                    failures.append(f"Event {uuid}: {key} expected {value!r}, got {actual[key]!r}")
            if "participants" in exp:
                failures += _check_participants(uuid, exp["participants"] or [],
                                                actual["participants"])
    for uuid, emails in (expect.get("unmatched") or {}).items():
        got = result["unmatched"].get(uuid)
        if got is None:
            failures.append(f"unmatched {uuid}: no booking with this uuid is Synced")
        elif sorted(map(_lower, got)) != sorted(map(_lower, emails or [])):
            failures.append(f"unmatched {uuid}: expected {sorted(emails or [])}, got {sorted(got)}")
    failures += _check_bookings(expect.get("bookings") or {}, result["bookings"])
    for index, (exp, txn) in enumerate(zip(expect.get("errors") or [], result["transactions"],
                                           strict=False)):
        err = txn["error"]
        if exp is None and err is not None:
            failures.append(f"transaction {index}: expected commit, got {err['code']}: "
                            f"{err['message']}")
        elif exp is not None:
            if err is None:
                failures.append(f"transaction {index}: expected error {exp}, but it committed")
            elif exp.get("code") and exp["code"] != err["code"]:
                failures.append(f"transaction {index}: expected {exp['code']}, got "
                                f"{err['code']}: {err['message']}")
            elif exp.get("message_contains") and exp["message_contains"] not in err["message"]:
                failures.append(f"transaction {index}: message lacks "
                                f"{exp['message_contains']!r}: {err['message']}")
    failures += _check_async_errors(expect.get("async_errors") or [], result["transactions"])
    for metric, bound in (expect.get("governor") or {}).items():
        ceiling = bound["max"]
        for index, txn in enumerate(result["transactions"]):
            for name, usage in [(f"transaction {index}", txn)] + [
                    (f"transaction {index} async {n} ({a['flow']})", a)
                    for n, a in enumerate(txn.get("async") or [])]:
                if usage[metric] > ceiling:
                    failures.append(f"{name}: {metric} {usage[metric]} exceeds max {ceiling}")
    return failures


def _check_async_errors(expected, transactions) -> list:
    """Every failed asynchronous transaction must match one expected entry, in order."""
    failed = [(index, a) for index, txn in enumerate(transactions)
              for a in txn.get("async") or [] if a["error"]]
    failures = []
    for number, (index, a) in enumerate(failed):
        err = a["error"]
        exp = expected[number] if number < len(expected) else None
        if exp is None:
            failures.append(f"transaction {index}: asynchronous path of {a['flow']} failed "
                            f"(not expected): {err['code']}: {err['message']}")
        elif exp.get("code", err["code"]) != err["code"] or exp.get(
                "message_contains", "") not in err["message"]:
            failures.append(f"transaction {index}: asynchronous path of {a['flow']}: expected "
                            f"{exp}, got {err['code']}: {err['message']}")
    if len(expected) > len(failed):
        failures.append(f"expected {len(expected)} failed asynchronous transactions, got "
                        f"{len(failed)}")
    return failures


def main(argv) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m localorg scenario",
                                     description="Run a booking scenario on a fresh local org.")
    parser.add_argument("file", help="scenario YAML (tests/scenarios/*.yml)")
    parser.add_argument("--flows-dir", help="flows to deploy instead of the project's flows/")
    args = parser.parse_args(argv)
    if args.flows_dir and not sorted(Path(args.flows_dir).glob("*.flow-meta.xml")):
        parser.error(f"--flows-dir {args.flows_dir}: no *.flow-meta.xml files there; give a "
                     "folder of flows in source format, such as flows/")
    try:
        result = run(load(args.file), args.flows_dir)
    except ScenarioError as exc:
        print(f"scenario error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(jsonable(result), indent=2))
    return 0 if result["ok"] else 1
