"""User: unique Usernames. (The org fills none of the required User fields: test data gets
them from localorg.users, as `sf org create user` does.)"""

from localorg.backend.rules.base import Person
from localorg.conditions import fold
from localorg.errors import SalesforceError


class User(Person):
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
