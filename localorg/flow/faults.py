"""Errors a flow interview raises, and $Flow.FaultMessage as Salesforce words it."""

from localorg.errors import SalesforceError

_ACTIONS = {"query": "look up records", "insert": "create records",
            "update": "update records", "delete": "delete records"}


class FlowFault(SalesforceError):
    """An unhandled fault: a data element failed and had no fault connector, or the flow is
    wrong (an unknown resource, a non-input variable set by a caller). The transaction rolls
    back."""

    def __init__(self, flow, element, message):
        super().__init__("FLOW_FAULT", message)
        self.flow = flow
        self.element = element


class FlowCustomError(SalesforceError):
    """A Custom Error element ran: the triggering record's save fails with this message, on
    `fields` for field errors (isFieldError with a fieldSelection)."""

    def __init__(self, flow, element, message, fields=None):
        super().__init__("FIELD_CUSTOM_VALIDATION_EXCEPTION", message, fields)
        self.flow = flow
        self.element = element


def fault_message(kind, exc):
    """$Flow.FaultMessage as Salesforce words it for a failed data element."""
    return (f"This error occurred when the flow tried to {_ACTIONS[kind]}: {exc.code}: "
            f"{exc.message}. You can look up ExceptionCode values in the SOAP API Developer "
            "Guide.")
