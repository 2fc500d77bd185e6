"""Lead conversion: Salesforce's `convertLead()`, the only way a Lead becomes converted.

`convert_leads(txn, converts)` takes LeadConvert dicts (SOAP API Developer Guide, "LeadConvert":
leadId, convertedStatus, accountId, contactId, ownerId, doNotCreateOpportunity,
overwriteLeadSource, sendNotificationEmail, …) and returns one LeadConvertResult dict per item
(leadId, accountId, contactId, success, errors), each item on its own: a failed one changes
nothing. A lead becomes an Account (new, or `accountId`) and a Contact (new, or `contactId`, of
that Account: only its empty fields are filled), through the standard field mapping (Salesforce
Help, "Map Custom Lead Fields for Lead Conversion": the standard fields map themselves); the Lead
gets IsConverted, ConvertedDate, ConvertedAccountId, ConvertedContactId and the converted
status. Opportunities are not emulated: `doNotCreateOpportunity` must be true.
docs/fidelity.md "Leads and conversion" lists what is confirmed and what is assumed.
"""

from datetime import UTC, datetime

from localorg import ids
from localorg.errors import SalesforceError

# The Lead Status value with IsConverted = true in a new org (recorded Lead describe's values).
CONVERTED_STATUSES = ("Closed - Converted",)
LEAD_TO_CONTACT = ("FirstName", "LastName", "Salutation", "Title", "Email", "Phone",
                   "MobilePhone", "Fax", "LeadSource", "Description", "IndividualId")
LEAD_TO_CONTACT_ADDRESS = {"Street": "MailingStreet", "City": "MailingCity",
                           "State": "MailingState", "PostalCode": "MailingPostalCode",
                           "Country": "MailingCountry"}
LEAD_TO_ACCOUNT = {"Company": "Name", "Phone": "Phone", "Website": "Website",
                   "Industry": "Industry"}
TRUE_FALSE = {"true": True, "false": False, "1": True, "0": False}


def convert_leads(txn, converts: list) -> list:
    """Convert each LeadConvert; one LeadConvertResult dict per item, in order."""
    results = []
    for item in converts:
        try:
            with txn.statement():
                account_id, contact_id = _convert_one(txn, item)
        except SalesforceError as exc:
            results.append({"leadId": item.get("leadId"), "accountId": None,
                            "contactId": None, "success": False,
                            "errors": [{"statusCode": exc.code, "message": exc.message,
                                        "fields": exc.fields}]})
            continue
        results.append({"leadId": ids.to18(item["leadId"]), "accountId": account_id,
                        "contactId": contact_id, "success": True, "errors": []})
    return results


def _flag(item: dict, name: str, required: bool):
    value = item.get(name)
    if value is None or value == "":
        if required:
            raise SalesforceError("REQUIRED_FIELD_MISSING",
                                  f"Required fields are missing: [{name}]", [name])
        return False
    if isinstance(value, bool):
        return value
    if str(value).lower() not in TRUE_FALSE:
        raise SalesforceError("INVALID_TYPE_ON_FIELD_IN_RECORD",
                              f"{name}: value not of required type: {value}", [name])
    return TRUE_FALSE[str(value).lower()]


def _record(txn, sobject: str, value, field: str) -> dict:
    try:
        rid = ids.to18(value)
    except (TypeError, ValueError):
        raise SalesforceError("MALFORMED_ID", f"{field}: id value of incorrect type: {value}",
                              [field]) from None
    record = txn.retrieve(sobject, rid)
    if record is None:
        raise SalesforceError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                              [field])
    return record


def _convert_one(txn, item: dict):
    if not item.get("leadId"):
        raise SalesforceError("REQUIRED_FIELD_MISSING", "Required fields are missing: [leadId]",
                              ["leadId"])
    lead = _record(txn, "Lead", item["leadId"], "leadId")
    if lead["IsConverted"]:
        raise SalesforceError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
    status = item.get("convertedStatus")
    if not status:
        raise SalesforceError("REQUIRED_FIELD_MISSING",
                              "Required fields are missing: [convertedStatus]",
                              ["convertedStatus"])
    if status not in CONVERTED_STATUSES:
        raise SalesforceError("INVALID_STATUS", f"invalid convertedStatus: {status}",
                              ["convertedStatus"])
    if not _flag(item, "doNotCreateOpportunity", required=False):
        raise SalesforceError(
            "NOT_IMPLEMENTED", "localorg does not emulate Opportunity: convert with "
            "doNotCreateOpportunity = true")
    for name in ("opportunityId", "opportunityName", "accountRecord", "contactRecord",
                 "opportunityRecord"):
        if item.get(name):
            raise SalesforceError("NOT_IMPLEMENTED",
                                  f"LeadConvert.{name} is not implemented by localorg")
    _flag(item, "overwriteLeadSource", required=False)
    _flag(item, "sendNotificationEmail", required=False)
    owner = item.get("ownerId")
    if owner:
        owner = _record(txn, "User", owner, "ownerId")["Id"]
    account_id = item.get("accountId")
    contact_id = item.get("contactId")
    if contact_id and not account_id:
        # SOAP API Developer Guide, LeadConvert.contactId: "this contact must be associated
        # with the specified accountId, and an accountId must be specified".
        raise SalesforceError("REQUIRED_FIELD_MISSING",
                              "Required fields are missing: [accountId]", ["accountId"])
    if account_id:
        account_id = _record(txn, "Account", account_id, "accountId")["Id"]
    else:
        account = {target: lead[source] for source, target in LEAD_TO_ACCOUNT.items()
                   if lead.get(source) is not None}
        account["OwnerId"] = owner or lead["OwnerId"]
        (account_id,) = txn.insert("Account", [account])
    mapped = {f: lead[f] for f in LEAD_TO_CONTACT if lead.get(f) is not None}
    mapped.update({target: lead[source] for source, target in LEAD_TO_CONTACT_ADDRESS.items()
                   if lead.get(source) is not None})
    if contact_id:
        contact = _record(txn, "Contact", contact_id, "contactId")
        if contact["AccountId"] != account_id:
            raise SalesforceError("INVALID_CROSS_REFERENCE_KEY",
                                  "contactId: the contact is not associated with the accountId",
                                  ["contactId"])
        empty = {f: v for f, v in mapped.items() if contact.get(f) is None}
        if item.get("overwriteLeadSource") and _flag(item, "overwriteLeadSource", False) \
                and lead.get("LeadSource"):
            empty["LeadSource"] = lead["LeadSource"]
        if empty:
            txn.update("Contact", [{"Id": contact["Id"], **empty}])
        contact_id = contact["Id"]
    else:
        (contact_id,) = txn.insert("Contact", [{**mapped, "AccountId": account_id,
                                                "OwnerId": owner or lead["OwnerId"]}])
    txn.system_update("Lead", [{
        "Id": lead["Id"], "IsConverted": True, "Status": status,
        "ConvertedDate": datetime.now(UTC).date().isoformat(),
        "ConvertedAccountId": account_id, "ConvertedContactId": contact_id}])
    return account_id, contact_id
