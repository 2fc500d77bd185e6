"""Flow deploy checks Salesforce makes that the local org makes too: a flow formula calling a
function with the wrong number of arguments fails the Flow component and deploys nothing."""

import pytest

from localorg.calendly import local_org
from tests.test_server_metadata import NS, REJECT_FLOW, deploy, failures

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
     "Incorrect number of parameters for function 'FIND()'. Expected 3, received 4"),
    ("CASE({!$Record.Name}, &quot;a&quot;, &quot;b&quot;)",
     "Incorrect number of parameters for function 'CASE()'. Expected 4, received 3"),
    ("UPPER(LEFT({!$Record.Name}), &quot;tr&quot;)",
     "Incorrect number of parameters for function 'LEFT()'. Expected 2, received 1"),
])
def test_a_formula_calling_a_function_with_the_wrong_number_of_arguments_fails(
        live, expression, message):
    doc = deploy(live, {"flows/Reject_Bookings.flow": with_formula(expression)})
    assert doc.findtext(".//m:status", namespaces=NS) == "Failed"
    [failure] = failures(doc)
    assert failure["componentType"] == "Flow" and failure["fullName"] == "Reject_Bookings"
    assert failure["problem"] == INVALID.format(message)
    assert failure["problemType"] == "Error" and failure["lineNumber"]
    assert not [f for f in live.org.flows() if f["name"] == "Reject_Bookings"]


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
