"""Complete User records of test data, as `sf org create user` does with a definition file.

Salesforce requires Username, Alias, Email, LastName, ProfileId and the four locale keys on a
new User (the User describe: not nillable, not defaulted). Test data (scenario files, benches,
tests) names people only, so `complete_users` fills what a record leaves out from the org's
admin user, as sfdx-core's `DefaultUserFields` does (forcedotcom/sfdx-core, src/org/user.ts:
"REQUIRED_FIELDS", copied from the admin user). The org itself fills nothing.
"""

LOCALE_KEYS = ("TimeZoneSidKey", "LocaleSidKey", "EmailEncodingKey", "LanguageLocaleKey",
               "ProfileId")


def complete_users(txn, records: list) -> list:
    """New User records with Username, Alias, the locale keys and ProfileId filled in."""
    admin = txn.retrieve("User", txn.org.default_user_id)
    out = []
    for record in records:
        full = dict(record)
        email = full.get("Email")
        if not full.get("Username") and email:
            full["Username"] = email
        if not full.get("Alias") and full.get("LastName"):
            full["Alias"] = ((full.get("FirstName") or "")[:1] + full["LastName"])[:8]
        for key in LOCALE_KEYS:
            full.setdefault(key, admin[key])
        out.append(full)
    return out
