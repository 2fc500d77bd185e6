"""Event: start, end and duration kept consistent; the WhoId's EventRelation (only with Shared
Activities: without it, EventRelations are invitees only); child Events (childevents.py)."""

from datetime import UTC, datetime

from localorg.backend.rules import childevents
from localorg.backend.rules.base import Rules
from localorg.errors import SalesforceError
from localorg.values import format_datetime, parse_datetime


class Event(Rules):
    after_write_may_fail = True  # the WhoId's EventRelation is checked after the Event's write

    def may_fail_after_write(self, op, given):
        # a new Event checks and writes an EventRelation after its write only for a WhoId
        return op != "insert" or any(key.lower() == "whoid" and value
                                     for key, value in given.items())

    def derive(self, txn, full, given):
        childevents.check_update(full, given)
        start, end = full.get("StartDateTime"), full.get("EndDateTime")
        if "ActivityDateTime" in given and "StartDateTime" not in given:
            start = full["StartDateTime"] = full["ActivityDateTime"]
        if start and full.get("DurationInMinutes") is not None and (
            "DurationInMinutes" in given and "EndDateTime" not in given or not end
        ):
            end_dt = parse_datetime(start).timestamp() + 60 * full["DurationInMinutes"]
            end = full["EndDateTime"] = format_datetime(datetime.fromtimestamp(end_dt, UTC))
        if start:
            full["ActivityDateTime"] = start
            full["ActivityDate"] = start[:10]
        if start and end:
            minutes = (parse_datetime(end) - parse_datetime(start)).total_seconds() // 60
            full["DurationInMinutes"] = int(minutes)

    def required(self, full):
        # Salesforce needs a start (ActivityDateTime) and a duration or an end.
        return [n for n in ("ActivityDateTime", "DurationInMinutes") if full.get(n) is None]

    def validate(self, txn, full):
        if full["DurationInMinutes"] < 0:
            raise SalesforceError("FIELD_INTEGRITY_EXCEPTION",
                                  "End Date Time: End time can't be before start time.",
                                  ["EndDateTime"])

    def after_insert(self, txn, full):
        if full.get("WhoId") and txn.org.shared_activities:
            _relate(txn, full["Id"], full["WhoId"])

    def after_update(self, txn, full, before):
        if full.get("IsChild"):
            return  # only its reminder changed
        childevents.sync(txn, full)
        old, new = before.get("WhoId"), full.get("WhoId")
        if new == old or not txn.org.shared_activities:
            return
        for rel in txn.org.db.relations_of(full["Id"]):
            if rel["RelationId"] == old and not rel["IsInvitee"]:
                txn.org.db.delete(rel["Id"])
        if new and not any(r["RelationId"] == new for r in txn.org.db.relations_of(full["Id"])):
            _relate(txn, full["Id"], new)

    def after_delete(self, txn, record):
        for rel in txn.org.db.relations_of(record["Id"]):
            txn.org.db.delete(rel["Id"])
        childevents.deleted(txn, record)


def _relate(txn, event_id, who_id):
    """Shared Activities' own EventRelation for an Event's WhoId (no DML charged)."""
    txn.insert_one(txn.org.describe("EventRelation"), {
        "EventId": event_id, "RelationId": who_id, "IsParent": True, "IsInvitee": False})
