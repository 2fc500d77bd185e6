"""The set-up of a booking scenario: its `org` records, then its `convert_leads` step.

`org` records are inserted one object at a time, in file order, in one transaction, by a user
granted "Set Audit Fields upon Record Creation" (so files may give CreatedDate/LastModifiedDate,
as a data load with that permission does); the permission is revoked before the bookings. Users
are completed as `sf org create user` does (localorg.users).

`convert_leads` converts Leads the only way Salesforce allows, with convertLead (no
Opportunity, status "Closed - Converted"). Each entry names the Lead by field values (`lead`,
exactly one match) and, optionally, the existing Contact it merges into (`contact`); without
`contact` convertLead makes a new Account and Contact from the Lead. A `contact` without an
Account first gets one (named after the Lead's Company), by ordinary DML, since convertLead
merges only into a Contact of the given Account. Format: tests/scenarios/README.md.
"""

from localorg.backend.convert import CONVERTED_STATUSES, convert_leads
from localorg.conditions import And, Cmp
from localorg.errors import SalesforceError
from localorg.users import complete_users

CONVERT_KEYS = {"lead", "contact"}


class SetupError(Exception):
    """The scenario's set-up cannot be made; the message says what to fix."""


def create_records(org, records_by_object: dict) -> None:
    org.allow_audit_fields(True)
    sobject = None
    try:
        with org.transaction() as txn:
            for sobject, records in records_by_object.items():
                if sobject == "User":
                    records = complete_users(txn, records or [])
                txn.insert(sobject, records or [])
    except SalesforceError as exc:
        raise SetupError(f"org records could not be created ({sobject}): {exc.code}: "
                         f"{exc.message}") from None
    finally:
        org.allow_audit_fields(False)


def _one(txn, sobject: str, values, where: str) -> dict:
    if not isinstance(values, dict) or not values:
        raise SetupError(f"{where}: give the {sobject} as field values, e.g. "
                         "{Email: pat@client.test}")
    try:
        rows = txn.query(sobject, ["Id", "AccountId"] if sobject == "Contact" else ["Id"],
                         where=And(*(Cmp(k, "=", v) for k, v in values.items())))
    except SalesforceError as exc:
        raise SetupError(f"{where}: {exc.code}: {exc.message}") from None
    if len(rows) != 1:
        raise SetupError(f"{where}: {len(rows)} {sobject} records match {values}; exactly one "
                         "must")
    return rows[0]


def convert(org, entries) -> None:
    """Run the `convert_leads` step; SetupError when an entry is unusable or fails."""
    if not isinstance(entries, list):
        raise SetupError("convert_leads is a list of {lead: {...}, contact: {...}} entries")
    for number, entry in enumerate(entries, 1):
        where = f"convert_leads entry {number}"
        if not isinstance(entry, dict) or set(entry) - CONVERT_KEYS or "lead" not in entry:
            raise SetupError(f"{where}: keys are 'lead' (required) and 'contact'; got {entry!r}")
        with org.transaction() as txn:
            lead = _one(txn, "Lead", entry["lead"], where)
            item = {"leadId": lead["Id"], "convertedStatus": CONVERTED_STATUSES[0],
                    "doNotCreateOpportunity": True}
            if "contact" in entry:
                contact = _one(txn, "Contact", entry["contact"], where)
                account_id = contact["AccountId"]
                if account_id is None:
                    company = txn.retrieve("Lead", lead["Id"])["Company"]
                    (account_id,) = txn.insert("Account", [{"Name": company}])
                    txn.update("Contact", [{"Id": contact["Id"], "AccountId": account_id}])
                item.update(contactId=contact["Id"], accountId=account_id)
            (result,) = convert_leads(txn, [item])
            if not result["success"]:
                error = result["errors"][0]
                raise SetupError(f"{where}: convertLead failed: {error['statusCode']}: "
                                 f"{error['message']}")
