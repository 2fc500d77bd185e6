"""Flow deploy checks Salesforce makes that the local org makes too: a flow formula calling a
function flows do not have or with the wrong number of arguments, or a Get Records limit that is
no count of records, fails the Flow component and deploys nothing. A flow function the local
runtime does not run fails it too, as NOT_IMPLEMENTED."""

import pytest
import requests

from localorg.calendly import local_org
from tests.test_server_metadata import LOOKUP_FLOW, NS, REJECT_FLOW, V, deploy, failures

INVALID = "field integrity exception: unknown (The formula expression is invalid: {})"


@pytest.fixture
def live(serve_org):
    return serve_org(local_org())


def with_formula(expression: str, data_type: str = "String") -> str:
    """REJECT_FLOW (active) with a formula resource, in the schema's element order."""
    resource = (f"    <formulas>\n        <name>Checked</name>\n        <dataType>{data_type}"
                f"</dataType>\n        <expression>{expression}</expression>\n    </formulas>\n")
    label = "    <label>Reject Bookings"
    return REJECT_FLOW.format(status="Active").replace(label, resource + label)


@pytest.mark.parametrize("expression, message", [
    ("LEN({!$Record.Name}, {!$Record.Name})",
     "Incorrect number of parameters for function 'LEN()'. Expected 1, received 2"),
    ("IF(ISBLANK({!$Record.Name}), &quot;x&quot;)",
     "Incorrect number of parameters for function 'IF()'. Expected 3, received 2"),
    ("TEXT()", "Incorrect number of parameters for function 'TEXT()'. Expected 1, received 0"),
    ("ROUND(2.5)", "Incorrect number of parameters for function 'ROUND()'. Expected 2, received 1"),
    ("MID({!$Record.Name}, 2)",
     "Incorrect number of parameters for function 'MID()'. Expected 3, received 2"),
    ("FIND(&quot;a&quot;, {!$Record.Name}, 1, 2)",
     "Incorrect number of parameters for function 'FIND()'. Expected 2, received 4"),
    ("CASE({!$Record.Name}, &quot;a&quot;, &quot;b&quot;)",
     "Incorrect number of parameters for function 'CASE()'. Expected 4, received 3"),
    ("UPPER(LEFT({!$Record.Name}), &quot;tr&quot;)",
     "Incorrect number of parameters for function 'LEFT()'. Expected 2, received 1"),
    # a function flows do not have: a typo, or a Salesforce function flows do not allow
    ("LENN({!$Record.Name})", "Unknown function LENN. Check spelling."),
    ("UPPER(Trimm({!$Record.Name}))", "Unknown function TRIMM. Check spelling."),
    ("VLOOKUP(1, 2, 3)", "Function VLOOKUP may not be used in this type of formula"),
    ("TEXT(TimeValue(&quot;10:00:00.000&quot;))",
     "Function TIMEVALUE may not be used in this type of formula"),
])
def test_a_formula_calling_an_unknown_function_or_with_wrong_arguments_fails(
        live, expression, message):
    failure = refused(live, expression)
    assert failure["problem"] == INVALID.format(message)


def refused(live, expression) -> dict:
    """The one componentFailure of deploying REJECT_FLOW with `expression`; nothing stored."""
    doc = deploy(live, {"flows/Reject_Bookings.flow": with_formula(expression)})
    assert doc.findtext(".//m:status", namespaces=NS) == "Failed"
    [failure] = failures(doc)
    assert failure["componentType"] == "Flow" and failure["fullName"] == "Reject_Bookings"
    assert failure["problemType"] == "Error" and failure["lineNumber"]
    assert not [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]
    return failure


def test_a_formula_with_optional_and_variadic_arguments_deploys(live):
    expression = ("UPPER(LPAD(MID({!$Record.Name}, FIND(&quot;.&quot;, {!$Record.Name}, 2), 3), 5),"
                  " &quot;tr&quot;) &amp; TEXT(MAX(1, 2, 3)) &amp; CASE(1, 2, &quot;a&quot;, 3,"
                  " &quot;b&quot;, &quot;c&quot;)")
    doc = deploy(live, {"flows/Reject_Bookings.flow": with_formula(expression)})
    assert doc.findtext(".//m:status", namespaces=NS) == "Succeeded", failures(doc)
    assert [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]


def test_an_entry_formula_is_checked_too(live):
    xml = REJECT_FLOW.format(status="Active").replace(
        "        <object>", "        <filterFormula>NOT()</filterFormula>\n        <object>")
    doc = deploy(live, {"flows/Reject_Bookings.flow": xml})
    [failure] = failures(doc)
    assert failure["problem"] == INVALID.format(
        "Incorrect number of parameters for function 'NOT()'. Expected 1, received 0")


def with_limit(limit: str) -> str:
    """LOOKUP_FLOW (a Get Records of Contact, Draft) with a <limit> and a Text and a Number
    variable to reference."""
    xml = LOOKUP_FLOW.format(field="Email", record_field="Calendly__InviteeEmail__c")
    xml = xml.replace("        <object>Contact</object>",
                      f"        <limit>{limit}</limit>\n        <object>Contact</object>")
    variables = "".join(
        f"    <variables>\n        <name>{name}</name>\n        <dataType>{dtype}</dataType>\n"
        "        <isCollection>false</isCollection>\n        <isInput>false</isInput>\n"
        "        <isOutput>false</isOutput>\n    </variables>\n"
        for name, dtype in (("Label_Text", "String"), ("How_Many", "Number")))
    return xml.replace("</Flow>", variables + "</Flow>")


@pytest.mark.parametrize("limit, shown", [
    ("<numberValue>0</numberValue>", "numberValue 0"),
    ("<numberValue>2.5</numberValue>", "numberValue 2.5"),
    ("<numberValue>-3</numberValue>", "numberValue -3"),
    ("<stringValue>ten</stringValue>", "stringValue ten"),
    ("<elementReference>Label_Text</elementReference>", "elementReference Label_Text"),
    ("<elementReference>Not_Defined</elementReference>", "elementReference Not_Defined"),
    ("<!-- none -->\n<numberValue>0</numberValue>", "numberValue 0"),
])
def test_a_get_records_limit_that_is_no_count_of_records_fails(live, limit, shown):
    doc = deploy(live, {"flows/Look_Up.flow": with_limit(limit)})
    assert doc.findtext(".//m:status", namespaces=NS) == "Failed"
    [failure] = failures(doc)
    assert failure["componentType"] == "Flow" and failure["problemType"] == "Error"
    assert failure["problem"] == (
        "field integrity exception: unknown (The limit of Get Records element Get_Contacts "
        f"must be a whole number of at least 1 or a Number resource, not {shown})")
    assert not [f for f in live.org.flows() if f["name"] == "Look_Up"]


def test_a_non_numeric_limit_is_refused_by_the_schema(live):
    doc = deploy(live, {"flows/Look_Up.flow": with_limit("<numberValue>ten</numberValue>")})
    [failure] = failures(doc)
    assert "'ten' is not a valid number for <numberValue>" in failure["problem"]


@pytest.mark.parametrize("limit", ["<numberValue>10.0</numberValue>",
                                   "<elementReference>How_Many</elementReference>",
                                   "<!-- at most ten -->\n<numberValue>10</numberValue>"])
def test_a_whole_limit_or_a_number_resource_deploys(live, limit):
    doc = deploy(live, {"flows/Look_Up.flow": with_limit(limit)})
    assert doc.findtext(".//m:status", namespaces=NS) == "Succeeded", failures(doc)


def test_a_flow_stored_before_the_check_fails_the_save_in_salesforce_words(live):
    """A flow with such a formula that is already stored (org.deploy_flow skips the deploy's
    checks) fails the triggering insert as a flow fault: CANNOT_EXECUTE_FLOW_TRIGGER, with
    Salesforce's formula text and none of Python's."""
    xml = with_formula("LEN({!$Record.Name}, {!$Record.Name})").replace(
        "Bookings are closed", "Closed {!Checked}")
    live.org.deploy_flow("Reject_Bookings", xml)
    response = insert_action(live)
    assert response.status_code == 400
    [error] = response.json()
    assert error["errorCode"] == "CANNOT_EXECUTE_FLOW_TRIGGER"
    assert ("Incorrect number of parameters for function 'LEN()'. Expected 1, received 2"
            in error["message"]), error["message"]
    assert "positional" not in error["message"] and "TypeError" not in error["message"]


def test_a_flow_function_the_runtime_does_not_run_is_refused_as_not_implemented(live):
    """HYPERLINK is a flow-formula function (FormulaFunctionAllowedType, Flow) the local runtime
    does not run: refused, saying so and naming it, never as a typo."""
    failure = refused(live, "HYPERLINK(&quot;https://example.com&quot;, {!$Record.Name})")
    assert failure["problem"].startswith(
        "The local org does not implement the flow formula function HYPERLINK()")
    assert "Unknown function" not in failure["problem"]


def test_an_entry_formula_calling_an_unknown_function_fails(live):
    xml = REJECT_FLOW.format(status="Active").replace(
        "        <object>", "        <filterFormula>ISBLANKK({!$Record.Name})</filterFormula>\n"
                           "        <object>")
    [failure] = failures(deploy(live, {"flows/Reject_Bookings.flow": xml}))
    assert failure["problem"] == INVALID.format("Unknown function ISBLANKK. Check spelling.")


def test_implemented_functions_in_any_case_still_deploy(live):
    expression = "lower(Trim({!$Record.Name})) &amp; text(len({!$Record.Name}))"
    doc = deploy(live, {"flows/Reject_Bookings.flow": with_formula(expression)})
    assert doc.findtext(".//m:status", namespaces=NS) == "Succeeded", failures(doc)


def insert_action(live):
    return requests.post(
        f"{live.url}/services/data/v{V}/sobjects/Calendly__CalendlyAction__c",
        json={"Name": "invitee.created", "Calendly__InviteeUuid__c": "inv-1"},
        headers={"Authorization": f"Bearer {live.token}"})


def test_a_stored_flow_calling_an_unknown_function_fails_the_save_in_salesforce_words(live):
    xml = with_formula("LENN({!$Record.Name})").replace("Bookings are closed", "Closed {!Checked}")
    live.org.deploy_flow("Reject_Bookings", xml)
    response = insert_action(live)
    assert response.status_code == 400
    [error] = response.json()
    assert error["errorCode"] == "CANNOT_EXECUTE_FLOW_TRIGGER"
    assert "Unknown function LENN. Check spelling." in error["message"], error["message"]


def test_a_stored_flow_calling_a_function_the_runtime_lacks_answers_not_implemented(live):
    xml = with_formula("HYPERLINK(&quot;https://example.com&quot;, {!$Record.Name})").replace(
        "Bookings are closed", "Closed {!Checked}")
    live.org.deploy_flow("Reject_Bookings", xml)
    response = insert_action(live)
    assert response.status_code == 501, response.text
    [error] = response.json()
    assert error["errorCode"] == "NOT_IMPLEMENTED"
    assert error["message"].startswith(
        "The local org does not implement the flow formula function HYPERLINK()")


@pytest.mark.parametrize("expression, message", [
    ("TEXT(MOD(LEN({!$Record.Name}), 0))", "division by zero"),
    ("TEXT(2 ^ (LEN({!$Record.Name}) + 10000))", "the operator '^' has no result"),
    ("TEXT(0 ^ -1)", "the operator '^' has no result"),
    ("TEXT(ROUND(1.5, 100000))", "the function 'ROUND()' has no result"),
    ("IF(&quot;a&quot; &lt; LEN({!$Record.Name}), &quot;x&quot;, &quot;y&quot;)",
     "Incorrect parameter type for operator '<'"),
    ("TEXT(TODAY() - NOW())", "Incorrect parameter type for operator '-'"),
])
def test_a_formula_with_no_result_faults_the_flow_never_an_internal_error(
        live, expression, message):
    """A formula that deploys but has no value when it runs (MOD by 0, a power out of range, a
    comparison of a Text with a Number) fails the save as the flow's fault, not as a 500."""
    xml = with_formula(expression).replace("Bookings are closed", "Closed {!Checked}")
    doc = deploy(live, {"flows/Reject_Bookings.flow": xml})
    assert doc.findtext(".//m:status", namespaces=NS) == "Succeeded", failures(doc)
    response = insert_action(live)
    assert response.status_code == 400, response.text
    [error] = response.json()
    assert error["errorCode"] == "CANNOT_EXECUTE_FLOW_TRIGGER"
    assert f"formula Checked: {message}" in error["message"], error["message"]


def test_a_flow_fault_is_reported_before_a_function_the_runtime_lacks(live):
    """HYPERLINK (a flow function the local runtime lacks) around LENN (no function at all):
    the flow's own fault is what Salesforce reports, so it is the problem, not NOT_IMPLEMENTED."""
    failure = refused(live, "HYPERLINK(LENN({!$Record.Name}), &quot;b&quot;)")
    assert failure["problem"] == INVALID.format("Unknown function LENN. Check spelling.")


@pytest.mark.parametrize("expression, shown", [
    ("LEN({!Not_Defined})", "Not_Defined"),
    ("{!Missing.Name} &amp; &quot;x&quot;", "Missing.Name"),
])
def test_a_formula_reading_a_name_the_flow_does_not_define_fails(live, expression, shown):
    failure = refused(live, expression)
    assert failure["problem"] == INVALID.format(f"Field {shown} does not exist. Check spelling.")


def test_a_formula_may_read_its_resources_elements_and_globals(live):
    """Names the flow defines (itself here, the Reject element) and globals (`$Flow`, `$Record`,
    not validated: Flow Formula Considerations) are no fault."""
    doc = deploy(live, {"flows/Reject_Bookings.flow": with_formula(
        "IF(ISBLANK({!$Record.Name}), TEXT({!$Flow.CurrentDate}), &quot;x&quot;)"
        " &amp; TEXT(ISBLANK({!Reject})) &amp; TEXT({!$Flow.Unvalidated})")})
    assert doc.findtext(".//m:status", namespaces=NS) == "Succeeded", failures(doc)
