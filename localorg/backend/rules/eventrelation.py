"""EventRelation under Shared Activities: invitees and parents of an Event; a User invitee
brings a child Event along (childevents.py).

The Object Reference (EventRelation): "up to 50 contacts or one lead"; users are invitees only.
"""

from localorg.backend.rules import childevents
from localorg.backend.rules.base import Rules
from localorg.errors import SalesforceError

MAX_EVENT_CONTACTS = 50  # Shared Activities: up to 50 Contacts related to one Event


class EventRelation(Rules):
    def derive(self, txn, full, given):
        if full.get("IsInvitee") is None:
            # Shared Activities: IsInvitee defaults to true unless IsParent is set.
            full["IsInvitee"] = not full.get("IsParent")

    def validate(self, txn, rel):
        childevents.check_relation(txn, rel["EventId"])
        # fidelity: Activities / EventRelation User and Lead errors (this org's wording)
        relation_type = txn.org.object_for_id(rel["RelationId"]).name
        if relation_type == "User" and rel.get("IsParent"):
            raise SalesforceError(
                "FIELD_INTEGRITY_EXCEPTION",
                "Is Parent: a User can only be an invitee of an event, not its parent "
                "(IsParent must be false for User relations)", ["IsParent"])
        siblings = [r for r in txn.org.db.relation_keys(rel["EventId"]) if r[0] != rel["Id"]]
        dup = next((rid for rid, relation, _ in siblings if relation == rel["RelationId"]), None)
        if dup is not None:
            raise SalesforceError(
                "DUPLICATE_VALUE",
                f"duplicate value found: RelationId duplicates value on record with id: "
                f"{dup}", ["RelationId"])
        parents = [relation[:3] for _, relation, is_parent in siblings if is_parent]
        if rel.get("IsParent") and (relation_type == "Lead" and parents or "00Q" in parents):
            # Shared Activities: an Event relates to one Lead or to Contacts, never both.
            raise SalesforceError(
                "FIELD_INTEGRITY_EXCEPTION",
                "Is Parent: an event related to a lead can't be related to other contacts or "
                "leads", ["IsParent"])
        if relation_type == "Contact" and rel.get("IsParent"):
            if parents.count("003") + 1 > MAX_EVENT_CONTACTS:
                # fidelity: Activities / more than 50 Contacts on an Event (code and text assumed)
                raise SalesforceError(
                    "LIMIT_EXCEEDED",
                    f"You can't relate more than {MAX_EVENT_CONTACTS} contacts to an event.",
                    ["RelationId"])

    def after_insert(self, txn, rel):
        # A User invitee gets a child Event (childevents.py).
        if rel.get("IsInvitee") and txn.org.object_for_id(rel["RelationId"]).name == "User":
            childevents.create(txn, rel["EventId"], rel["RelationId"])

    def after_delete(self, txn, rel):
        if txn.org.object_for_id(rel["RelationId"]).name == "User":
            childevents.remove(txn, rel["EventId"], rel["RelationId"])
