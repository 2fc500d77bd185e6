"""User: defaults the local org fills, and unique Usernames."""

from localorg.backend.rules.base import Person
from localorg.conditions import fold
from localorg.errors import SalesforceError


class User(Person):
    def derive(self, txn, full, given):
        super().derive(txn, full, given)
        # The local org fills these User fields Salesforce requires on create, so test data
        # can give just names, Email and IsActive.
        if not full.get("Username") and full.get("Email"):
            full["Username"] = full["Email"]
        if not full.get("Alias") and full.get("LastName"):
            full["Alias"] = ((full.get("FirstName") or "")[:1] + full["LastName"])[:8]

    def validate(self, txn, full):
        if not full.get("Username"):
            return
        for other in txn.org.db.rows("User"):
            if other["Id"] != full["Id"] and fold(other["Username"]) == fold(full["Username"]):
                # fidelity: Describe and field rules / DUPLICATE_USERNAME text
                raise SalesforceError(
                    "DUPLICATE_USERNAME",
                    "Duplicate Username.<br>The username already exists in this or another "
                    "Salesforce organization. Usernames must be unique across all Salesforce "
                    "organizations. To resolve, use a different username (it doesn't need to "
                    "match the user's email address). ", ["Username"])
