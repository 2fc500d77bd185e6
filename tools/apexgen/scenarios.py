"""Read booking scenarios tolerantly and decide which ones Apex can express.

`analyse(path)` never raises for a bad or newer scenario file: it returns a `Plan` that is either
expressible (records, transactions, expectations ready to render) or carries the reason it is not.
The runner (localorg.scenario) rejects unknown keys as unusable; here they only make a scenario
"not expressible", because the scenario format grows while this generator may lag behind.

Rules (the generated class header repeats them):
- Audit dates. Apex cannot set LastModifiedDate on test data (the "Set Audit Fields upon Record
  Creation" permission is an org setting a test cannot assume); CreatedDate is set with
  Test.setCreatedDate. The flows read LastModifiedDate only to order records of one object that
  share an email. So a scenario whose records share an email within one object and that sets
  LastModifiedDate is not expressible; elsewhere the dates cannot change the outcome and are left
  out.
- A Lead with IsConverted: true cannot be inserted (the field is read-only); a scenario converts
  Leads with `convert_leads`, which the Apex test runs with Database.convertLead.
- Org settings: Apex cannot change them, so a scenario that turns Shared Activities off is not
  expressible (the scratch org definition turns it on).
- expect.async_errors names asynchronous flow transactions that must fail; an Apex test cannot
  see which asynchronous transaction failed, so such a scenario is not expressible (an empty list
  is fine). Governor ceilings are checked on the synchronous transaction only: Limits does not
  report the asynchronous ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from localorg.scenario_generate import GenerateError, expand

TOP_KEYS = {"description", "settings", "org", "convert_leads", "transactions", "expect"}
CONVERT_KEYS = {"lead", "contact"}
EXPECT_KEYS = {"events", "unmatched", "errors", "governor", "bookings", "async_errors"}
BOOKING_KEYS = {"status", "error_contains"}
EVENT_KEYS = {"invitee_uuid", "subject", "owner_email", "who_email", "who_name", "show_as",
              "participants", "start", "end", "description", "location"}
PARTICIPANT_KEYS = ("relation_email", "relation_type", "is_invitee", "is_parent")
OPTIONAL_PARTICIPANT_KEYS = ("relation_name",)
GOVERNOR_KEYS = {"soql", "dml", "rows", "dml_rows"}
ERROR_KEYS = {"code", "message_contains"}
ORG_OBJECTS = {"User", "Contact", "Lead"}
AUDIT_FIELDS = ("CreatedDate", "LastModifiedDate")
IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class NotExpressible(Exception):
    """The scenario cannot be written as Apex; the message says why."""


@dataclass
class Plan:
    path: Path
    description: str = ""
    reason: str | None = None  # set when not expressible
    org: list = field(default_factory=list)  # [(object, [record dict])], file order
    converts: list = field(default_factory=list)  # [{"lead": {...}, "contact": {...}?}]
    created_dates: list = field(default_factory=list)  # [(object, index, datetime)]
    dropped_audit: bool = False
    transactions: list = field(default_factory=list)  # [[booking dict]]
    errors: list = field(default_factory=list)  # per transaction: None or {code, message}
    events: list | None = None  # expected events, None when the scenario does not say
    governor: dict = field(default_factory=dict)  # metric -> max
    bookings: list = field(default_factory=list)  # [{invitee_uuid, status?, error_contains?,
    #                                                 unmatched?}] checked on the bookings

    @property
    def name(self) -> str:
        return self.path.name


def analyse(path: Path) -> Plan:
    plan = Plan(Path(path))
    try:
        data = expand(yaml.safe_load(plan.path.read_text()))
    except (OSError, yaml.YAMLError, GenerateError) as exc:
        plan.reason = f"cannot read the file: {exc}".splitlines()[0]
        return plan
    try:
        _fill(plan, data)
    except NotExpressible as exc:
        plan.reason = str(exc)
    return plan


def _fill(plan: Plan, data) -> None:
    if not isinstance(data, dict):
        raise NotExpressible("not a mapping")
    _known("top-level", data, TOP_KEYS)
    _settings(data.get("settings") or {})
    plan.description = " ".join(str(data.get("description") or "").split())
    _org(plan, data.get("org") or {})
    plan.converts = _converts(data.get("convert_leads") or [])
    transactions = data.get("transactions")
    if not isinstance(transactions, list) or not transactions or not all(
            isinstance(t, list) and t and all(isinstance(b, dict) for b in t)
            for t in transactions):
        raise NotExpressible("'transactions' is not a non-empty list of lists of bookings")
    for bookings in transactions:
        for booking in bookings:
            for name in booking:
                _field_name(name)
    plan.transactions = transactions
    expect = data.get("expect") or {}
    if not isinstance(expect, dict):
        raise NotExpressible("'expect' is not a mapping")
    _known("expect", expect, EXPECT_KEYS)
    plan.errors = _errors(expect.get("errors"), len(transactions))
    plan.governor = _governor(expect.get("governor") or {})
    if "events" in expect:
        plan.events = [_event(e) for e in expect["events"] or []]
    if expect.get("async_errors"):
        raise NotExpressible("expect.async_errors: an Apex test cannot see which asynchronous "
                             "flow transaction failed")
    plan.bookings = _bookings(expect.get("bookings") or {}, expect.get("unmatched") or {})


def _known(where: str, mapping: dict, allowed) -> None:
    unknown = sorted(set(mapping) - set(allowed), key=str)
    if unknown:
        raise NotExpressible(f"{where} keys {unknown} are unknown to the generator")


def _field_name(name) -> None:
    if not isinstance(name, str) or not IDENT.match(name):
        raise NotExpressible(f"field name {name!r} is not an API name")


def _org(plan: Plan, org) -> None:
    if not isinstance(org, dict):
        raise NotExpressible("'org' is not a mapping of object to records")
    for sobject, records in org.items():
        if sobject not in ORG_OBJECTS:
            raise NotExpressible(f"org object {sobject!r}: the generator writes only "
                                 f"{sorted(ORG_OBJECTS)}")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise NotExpressible(f"org.{sobject} is not a list of records")
        kept = []
        for index, record in enumerate(records):
            for name in record:
                _field_name(name)
            if sobject == "Lead" and record.get("IsConverted"):
                raise NotExpressible(
                    "a Lead with IsConverted: true: the field is read-only to DML (convert it "
                    "with convert_leads)")
            if record.get("CreatedDate") is not None:
                plan.created_dates.append((sobject, index, parse_datetime(record["CreatedDate"])))
            if any(f in record for f in AUDIT_FIELDS):
                plan.dropped_audit = True
            kept.append({k: v for k, v in record.items() if k not in AUDIT_FIELDS})
        _audit_order_matters(sobject, records)
        plan.org.append((sobject, kept))


def _audit_order_matters(sobject: str, records: list) -> None:
    emails = [str(r.get("Email") or "").lower() for r in records if r.get("Email")]
    shared = sorted({e for e in emails if emails.count(e) > 1})
    if shared and any("LastModifiedDate" in r for r in records):
        raise NotExpressible(
            f"{sobject} records share an email ({', '.join(shared)}) and are ordered by "
            "LastModifiedDate, which Apex test data cannot set")


def _converts(entries) -> list:
    if not isinstance(entries, list):
        raise NotExpressible("'convert_leads' is not a list")
    for entry in entries:
        if not isinstance(entry, dict) or "lead" not in entry:
            raise NotExpressible("a convert_leads entry is not a mapping with 'lead'")
        _known("convert_leads entry", entry, CONVERT_KEYS)
        for key in entry:
            if not isinstance(entry[key], dict) or not entry[key]:
                raise NotExpressible(f"convert_leads {key} is not a mapping of field values")
            for name in entry[key]:
                _field_name(name)
    return entries


def _settings(settings) -> None:
    if not isinstance(settings, dict):
        raise NotExpressible("'settings' is not a mapping")
    _known("settings", settings, {"shared_activities"})
    if settings.get("shared_activities", True) is not True:
        raise NotExpressible("settings.shared_activities: false; an Apex test cannot change "
                             "org settings (the scratch org has Shared Activities on)")


def _bookings(bookings, unmatched) -> list:
    """Per invitee uuid: the expected Sync_Status__c list, Sync_Error__c text, unmatched emails."""
    if not isinstance(bookings, dict) or not isinstance(unmatched, dict):
        raise NotExpressible("expect.bookings and expect.unmatched map an invitee uuid to values")
    out = {}
    for uuid, want in bookings.items():
        if not isinstance(want, dict):
            raise NotExpressible(f"expect.bookings.{uuid} is not a mapping")
        _known(f"expect.bookings.{uuid}", want, BOOKING_KEYS)
        row = out.setdefault(uuid, {"invitee_uuid": uuid})
        if "status" in want:
            if not isinstance(want["status"], list):
                raise NotExpressible(f"expect.bookings.{uuid}.status is not a list")
            row["status"] = "\n".join(map(str, want["status"]))
        if want.get("error_contains") is not None:
            row["error_contains"] = str(want["error_contains"])
    for uuid, emails in unmatched.items():
        if not isinstance(emails, list | type(None)):
            raise NotExpressible(f"expect.unmatched.{uuid} is not a list of emails")
        out.setdefault(uuid, {"invitee_uuid": uuid})["unmatched"] = "\n".join(
            sorted(str(e).lower() for e in emails or []))
    return list(out.values())


def _errors(errors, count: int) -> list:
    if errors is None:
        return [None] * count
    if not isinstance(errors, list) or len(errors) != count:
        raise NotExpressible("expect.errors is not a list with one entry per transaction")
    out = []
    for entry in errors:
        if entry is None:
            out.append(None)
            continue
        if not isinstance(entry, dict):
            raise NotExpressible(f"expect.errors entry {entry!r} is not null or a mapping")
        _known("expect.errors entry", entry, ERROR_KEYS)
        out.append({"code": entry.get("code"), "message": entry.get("message_contains")})
    return out


def _governor(governor) -> dict:
    if not isinstance(governor, dict):
        raise NotExpressible("expect.governor is not a mapping")
    _known("expect.governor", governor, GOVERNOR_KEYS)
    out = {}
    for metric, bound in governor.items():
        if not isinstance(bound, dict) or set(bound) != {"max"} or not isinstance(
                bound["max"], int):
            raise NotExpressible(f"expect.governor.{metric} is not {{max: N}}")
        out[metric] = bound["max"]
    return out


def _event(event) -> dict:
    if not isinstance(event, dict) or "invitee_uuid" not in event:
        raise NotExpressible("an expected event is not a mapping with invitee_uuid")
    _known(f"event {event['invitee_uuid']}", event, EVENT_KEYS)
    out = {k: v for k, v in event.items() if k != "participants"}
    for key in ("start", "end"):
        if out.get(key) is not None:
            out[key] = parse_datetime(out[key])
    if "participants" in event:
        parts = []
        for part in event["participants"] or []:
            if not isinstance(part, dict) or set(PARTICIPANT_KEYS) - set(part):
                raise NotExpressible(f"event {event['invitee_uuid']}: a participant lacks "
                                     f"{list(PARTICIPANT_KEYS)}")
            _known(f"event {event['invitee_uuid']} participant", part,
                   PARTICIPANT_KEYS + OPTIONAL_PARTICIPANT_KEYS)
            parts.append(part)
        out["participants"] = parts
    return out


def parse_datetime(value) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    text = str(value).strip()
    match = re.match(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]00:?00)?$", text)
    if not match:
        raise NotExpressible(f"{value!r} is not a UTC date-time (YYYY-MM-DDThh:mm:ssZ)")
    return datetime.fromisoformat(f"{match[1]}T{match[2]}")
