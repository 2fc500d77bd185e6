"""Lead: converted only by convertLead (localorg.backend.convert); a converted Lead is frozen."""

from localorg.backend.rules.base import Person
from localorg.errors import SalesforceError


class Lead(Person):
    def before_write(self, txn, given, before):
        if before is None and given.get("IsConverted"):
            # IsConverted is createable (recorded Lead describe) for data migrations, which need
            # ConvertedAccountId etc. and the Create Audit Fields permission: not emulated.
            raise SalesforceError(
                "NOT_IMPLEMENTED", "Inserting a converted Lead (IsConverted = true, the data "
                "migration path) is not implemented by localorg: insert the Lead, then convert "
                "it with convertLead (SOAP API).", ["IsConverted"])
        if before is not None and before.get("IsConverted"):
            # fidelity: Leads and conversion / a converted Lead cannot be updated
            raise SalesforceError("CANNOT_UPDATE_CONVERTED_LEAD",
                                  "cannot reference converted lead")
