"""Salesforce-shaped errors raised by the local org.

Every error carries Salesforce's error code (statusCode), its message and, for DML, the fields at
fault, so the HTTP server can answer `[{"errorCode", "message", "fields"}]` exactly like Salesforce.
"""


class SalesforceError(Exception):
    """An error Salesforce would return with `code` (e.g. REQUIRED_FIELD_MISSING)."""

    def __init__(self, code: str, message: str, fields=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = list(fields or [])

    def as_dict(self) -> dict:
        """The REST API error shape: {"errorCode", "message", "fields"}."""
        return {"errorCode": self.code, "message": self.message, "fields": self.fields}


class DmlError(SalesforceError):
    """A DML statement failed; `index` is the position of the failing record in the statement.

    `record_id` names the record an after-save trigger (flow) failed for, so a partial-success
    statement can fail that record alone."""

    def __init__(self, code, message, fields=None, index=0, record_id=None):
        super().__init__(code, message, fields)
        self.index = index
        self.record_id = record_id


class LimitException(SalesforceError):
    """A governor limit was exceeded: `System.LimitException: Too many SOQL queries: 101`.

    Uncatchable in Apex and flows; the whole transaction rolls back.
    """

    def __init__(self, message: str):
        super().__init__("LIMIT_EXCEEDED", message)

    def __str__(self):
        return f"System.LimitException: {self.message}"


class NotImplementedInLocalOrg(SalesforceError):
    """Something Salesforce supports that the local org does not emulate (says so, never fakes)."""

    def __init__(self, what: str):
        super().__init__("NOT_IMPLEMENTED", f"The local org does not implement {what}.")
