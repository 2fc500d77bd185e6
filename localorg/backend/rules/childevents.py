"""Child Events: a User invitee's copy of an Event (`IsChild` true, owned by the invitee).

Salesforce creates one when a User becomes an invitee of an Event (an EventRelation to a User)
and keeps it in step with its parent; on a child Event only the reminder fields can be updated.
Nothing in the API links a child to its parent, so the org keeps that link in its meta table.
Sources and what is assumed: docs/fidelity.md, Activities.
"""

from localorg.errors import SalesforceError
from localorg.values import now_iso

LINKS = "child_events"  # meta: {parent Event id: {invitee User id: child Event id}}
REMINDER_FIELDS = {"IsReminderSet", "ReminderDateTime"}  # what a child Event's update may set
OWN = {"Id", "OwnerId", "IsChild", "CreatedDate", "CreatedById", "IsReminderSet",
       "ReminderDateTime"}  # a child's own values, never copied from its parent


def check_update(full, given):
    """Refuse an update of a child Event that sets anything but its reminder fields."""
    wrong = sorted(set(given) - REMINDER_FIELDS - {"Id"})
    if full.get("IsChild") and wrong:
        # fidelity: Activities / child Event updates (code and text assumed)
        raise SalesforceError(
            "FIELD_INTEGRITY_EXCEPTION",
            f"This is a child event (IsChild = true): only IsReminderSet and ReminderDateTime "
            f"can be updated, not {', '.join(wrong)}", wrong)


def check_relation(txn, event_id):
    """An EventRelation can't be created for a child Event (Object Reference: Event)."""
    if txn.org.db.value(event_id, "IsChild"):
        # fidelity: Activities / no EventRelation on a child Event (code and text assumed)
        raise SalesforceError("FIELD_INTEGRITY_EXCEPTION",
                              "An EventRelation can't be created for a child event (IsChild = "
                              "true); relate it to the parent event", ["EventId"])


def create(txn, event_id, user_id):
    """The child Event of `user_id` for the parent `event_id` (nothing if it exists)."""
    db = txn.org.db
    links = db.meta(LINKS, {})
    if user_id in links.get(event_id, {}):
        return
    _, parent = db.fetch(event_id)
    _group(txn, parent)
    db.write("Event", parent, new=False)
    stamp = now_iso()
    child = {**_copied(parent), "Id": db.next_id(txn.org.describe("Event").key_prefix),
             "OwnerId": user_id, "IsChild": True, "IsReminderSet": False,
             "ReminderDateTime": None, "CreatedDate": stamp, "CreatedById": txn.user_id,
             "LastModifiedDate": stamp, "LastModifiedById": txn.user_id,
             "SystemModstamp": stamp}
    db.write("Event", child, new=True)
    links.setdefault(event_id, {})[user_id] = child["Id"]
    db.set_meta(LINKS, links)


def sync(txn, parent):
    """Copy an updated parent Event onto its child Events."""
    db = txn.org.db
    for child_id in db.meta(LINKS, {}).get(parent["Id"], {}).values():
        _, child = db.fetch(child_id)
        if child is not None:
            db.write("Event", {**_copied(parent), **{k: child.get(k) for k in OWN}},
                     new=False)


def remove(txn, event_id, user_id):
    """The invitee `user_id` left the Event: delete their child Event."""
    db = txn.org.db
    links = db.meta(LINKS, {})
    child_id = links.get(event_id, {}).pop(user_id, None)
    if child_id is not None:
        db.delete(child_id)
        db.set_meta(LINKS, links)


def deleted(txn, event):
    """`event` was deleted: a parent takes its child Events along; a deleted child takes its
    invitee's EventRelation off the parent."""
    db = txn.org.db
    links = db.meta(LINKS, {})
    for child_id in links.pop(event["Id"], {}).values():
        db.delete(child_id)
    for parent_id, children in links.items():
        for user_id, child_id in list(children.items()):
            if child_id == event["Id"]:
                del children[user_id]
                for rel in db.relations_of(parent_id):
                    if rel["RelationId"] == user_id:
                        db.delete(rel["Id"])
    db.set_meta(LINKS, links)


def _copied(parent):
    return {k: v for k, v in parent.items() if k not in OWN}


def _group(txn, event):
    """An Event with invitees is a group event."""
    odef = txn.org.describe("Event")
    if odef.has("IsGroupEvent"):
        event["IsGroupEvent"] = True
    if odef.has("GroupEventType"):
        event["GroupEventType"] = "1"
