"""Flow runtime semantics Salesforce documents: null versus "", IsNull/IsBlank, subflow text
inputs, TRIM, bulkification per element and call path, formula calls and Get Records limits a
stored flow gets wrong, $Flow.CurrentDate's time zone (docs/fidelity.md, Flow runtime)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from test_runtime import assign, b, decision, filt, flow, leads, lookup, ref, run, s, var

from localorg.calendly import local_org
from localorg.conditions import Cmp
from localorg.errors import NotImplementedInLocalOrg
from localorg.flow import formula
from localorg.flow.interpreter import FlowFault
from localorg.flow.trigger import run_flow


@pytest.fixture
def org():
    return local_org()


def probe(left):
    """Decisions that record whether IsNull and IsBlank hold for `left` (r_IsNull, r_IsBlank)."""
    return (var("r_IsNull", "Boolean", out=True, value=b(False))
            + var("r_IsBlank", "Boolean", out=True, value=b(False))
            + decision("First", [("R", "and", [(left, "IsNull", b(True))], "Set_Null")],
                       default="Blank")
            + assign("Set_Null", [("r_IsNull", "Assign", b(True))], "Blank")
            + decision("Blank", [("R", "and", [(left, "IsBlank", b(True))], "Set_Blank")])
            + assign("Set_Blank", [("r_IsBlank", "Assign", b(True))]))


def test_null_and_empty_string_are_different_values(org):
    body = (var("empty", value=ref("$GlobalConstant.EmptyString")) + var("nothing")
            + var("same", "Boolean", out=True, value=b(False))
            + var("emptyEqualsEmpty", "Boolean", out=True, value=b(False))
            + decision("First", [("R", "and", [("nothing", "EqualTo",
                                                ref("$GlobalConstant.EmptyString"))], "Yes")],
                       default="Two")
            + assign("Yes", [("same", "Assign", b(True))], "Two")
            + decision("Two", [("R2", "and", [("empty", "EqualTo",
                                                ref("$GlobalConstant.EmptyString"))], "Yes2")])
            + assign("Yes2", [("emptyEqualsEmpty", "Assign", b(True))]))
    assert run(org, flow(body)) == {"same": False, "emptyEqualsEmpty": True}


@pytest.mark.parametrize("value,is_null,is_blank", [
    (ref("$GlobalConstant.EmptyString"), False, True),
    (None, True, True),
    (s("x"), False, False),
])
def test_is_null_only_null_is_blank_also_empty_string(org, value, is_null, is_blank):
    body = var("t", value=value) + probe("t")
    out = run(org, flow(body))
    assert out == {"r_IsNull": is_null, "r_IsBlank": is_blank}


def test_subflow_null_text_input_becomes_empty_string(org):
    child = (var("text", inp=True) + var("texts", coll=True, inp=True)
             + var("rec", "SObject", inp=True, obj="Contact") + var("unset", inp=True)
             + var("textIsEmpty", "Boolean", out=True, value=b(False))
             + var("recIsNull", "Boolean", out=True, value=b(False))
             + var("unsetIsNull", "Boolean", out=True, value=b(False))
             + var("textsIsNull", "Boolean", out=True, value=b(False))
             + decision("First", [("R", "and", [("text", "EqualTo",
                                                 ref("$GlobalConstant.EmptyString")),
                                                ("text", "IsNull", b(False))], "A")],
                        default="D2")
             + assign("A", [("textIsEmpty", "Assign", b(True))], "D2")
             + decision("D2", [("R", "and", [("rec", "IsNull", b(True))], "B")], default="D3")
             + assign("B", [("recIsNull", "Assign", b(True))], "D3")
             + decision("D3", [("R", "and", [("unset", "IsNull", b(True))], "C")],
                        default="D4")
             + assign("C", [("unsetIsNull", "Assign", b(True))], "D4")
             + decision("D4", [("R", "and", [("texts", "IsNull", b(True))], "E")])
             + assign("E", [("textsIsNull", "Assign", b(True))]))
    org.deploy_flow("Child", flow(child, name="Child"))
    parent = (var("nothing") + var("none", "SObject", obj="Contact")
              + "<subflows><name>First</name><label>C</label><flowName>Child</flowName>"
              + "".join(f"<inputAssignments><name>{n}</name><value>{ref(v)}</value>"
                        "</inputAssignments>"
                        for n, v in (("text", "nothing"), ("rec", "none"),
                                     ("texts", "nothing")))
              + "<storeOutputAutomatically>true</storeOutputAutomatically></subflows>")
    org.deploy_flow("F", flow(parent))
    with org.transaction() as txn:
        run_flow(org, txn, "F")
        child_run = next(item for item in txn.flow_log if item["flow"] == "Child")
    assert child_run["inputs"]["text"] == ""
    assert child_run["outputs"] == {"textIsEmpty": True, "recIsNull": True,
                                    "unsetIsNull": True, "textsIsNull": True}


def test_get_records_without_match_is_null_for_a_collection(org):
    body = (var("rows", "SObject", coll=True, obj="Contact")
            + var("found", "Boolean", out=True, value=b(True))
            + lookup("First", "Contact", [filt("Email", "EqualTo", s("nobody@x.test"))],
                     out="rows", first=False, nxt="D",
                     extra="<queriedFields>Id</queriedFields>")
            + decision("D", [("R", "and", [("rows", "IsNull", b(True))], "No")])
            + assign("No", [("found", "Assign", b(False))]))
    assert run(org, flow(body)) == {"found": False}


@pytest.mark.parametrize("expr,expected", [
    ('TRIM(" \\t a b \\t ")', "a b"),
    ('TRIM("\\n a \\n")', "\n a \n"),
    ('TRIM("\u00a0a\u2003")', "\u00a0a\u2003"),
    ('ISNULL("")', False),
    ("ISNULL({!nothing})", True),
    ('NULLVALUE("", "x")', ""),
    ('NULLVALUE({!nothing}, "x")', "x"),
    ('BLANKVALUE("", "x")', "x"),
    ('ISBLANK("")', True),
])
def test_formula_trim_and_null_functions(expr, expected):
    assert formula.evaluate(formula.parse(expr), {"nothing": None}.__getitem__) == expected


def test_bulkified_per_element_and_per_call_site(org):
    """30 interviews reach the subflow's Get Records through two Subflow elements of the parent:
    one query per call site (2), never one per interview (30), never merged across sites (1)."""
    child = (var("email", inp=True) + var("found", "SObject", obj="Contact")
             + lookup("First", "Contact", [filt("Email", "EqualTo", ref("email"))],
                      out="found"))
    org.deploy_flow("Child", flow(child, name="Child"))

    def call(name):
        return (f"<subflows><name>{name}</name><label>{name}</label><flowName>Child</flowName>"
                "<inputAssignments><name>email</name><value>" + ref("$Record.Email")
                + "</value></inputAssignments></subflows>")

    parent = (decision("First", [("Acme", "and", [("$Record.Company", "EqualTo", s("Acme"))],
                                  "Call_A")], default="Call_B")
              + call("Call_A") + call("Call_B"))
    org.deploy_flow("LeadFlow", flow(parent, trigger=("Lead", ""), name="LeadFlow"))
    with org.transaction() as txn:
        txn.insert("Lead", [{"LastName": f"L{i}", "Company": "Acme" if i % 2 else "Other",
                             "Email": f"l{i}@x.test"} for i in range(30)])
        assert txn.usage.soql == 2
    assert leads(org, 30)["soql"] == 1  # one call site only
    with org.transaction() as txn:
        assert txn.count("Lead", Cmp("Company", "=", "Acme")) == 45


@pytest.mark.parametrize("expression, message", [
    # stored before the deploy check refused it (org.deploy_flow stores without checks)
    ("LEN({!x}, {!x})",
     "Incorrect number of parameters for function 'LEN()'. Expected 1, received 2"),
    ("BLANKVALUE({!x})",
     "Incorrect number of parameters for function 'BLANKVALUE()'. Expected 2, received 1"),
    ("IF(TRUE, {!x})",
     "Incorrect number of parameters for function 'IF()'. Expected 3, received 2"),
    ("CASE({!x}, &quot;a&quot;, &quot;b&quot;, &quot;c&quot;, &quot;d&quot;)",
     "Incorrect number of parameters for function 'CASE()'. Expected 4, received 5"),
    # a value of a type the function does not take
    ("LEN(5)", "Incorrect parameter type for function 'LEN()'"),
    ("LOWER(5)", "Incorrect parameter type for function 'LOWER()'"),
    # a function flows do not have (a flow stored before the deploy check: it still loads)
    ("LENN({!x}) &amp; &quot;b&quot;", "Unknown function LENN. Check spelling."),
])
def test_a_bad_formula_call_fails_the_interview_in_salesforce_words(org, expression, message):
    with pytest.raises(FlowFault) as exc:
        run(org, flow(formula_body(expression)))
    assert exc.value.message == f"Flow F, element First: formula bad: {message}"


def formula_body(expression):
    return (var("x", value=s("a")) + var("out", out=True)
            + "<formulas><name>bad</name><dataType>String</dataType>"
            f"<expression>{expression}</expression></formulas>"
            + assign("First", [("out", "Assign", ref("bad"))]))


def test_a_flow_function_the_runtime_lacks_is_not_implemented_when_evaluated(org):
    """HYPERLINK is a flow function the runtime does not run: NOT_IMPLEMENTED naming it (no
    fault a fault path could catch, no made-up value), only when the call is evaluated."""
    call = "HYPERLINK(&quot;https://example.com&quot;, {!x})"
    with pytest.raises(NotImplementedInLocalOrg) as exc:
        run(org, flow(formula_body(call)))
    assert exc.value.message.startswith(
        "The local org does not implement the flow formula function HYPERLINK()")
    assert run(org, flow(formula_body(f"IF(FALSE, {call}, {{!x}})"))) == {"out": "a"}


@pytest.mark.parametrize("limit, shown", [
    # stored before the deploy check refused it (org.deploy_flow stores without checks)
    ("<numberValue>2.5</numberValue>", "2.5"),
    ("<numberValue>0</numberValue>", "0"),
    # a reference whose value at run time is no count of records
    ("<elementReference>how_many</elementReference>", "abc"),
])
def test_a_get_records_limit_that_is_no_count_fails_the_interview(org, limit, shown):
    body = (var("how_many", value=s("abc")) + var("found", "SObject", coll=True, obj="Contact")
            + lookup("First", "Contact", [], out="found", first=False,
                     extra=f"<limit>{limit}</limit>"))
    with pytest.raises(FlowFault) as exc:
        run(org, flow(body))
    assert exc.value.message == ("Flow F, element First: the limit of records to get must be a "
                                 f"whole number of at least 1, got {shown}")


def test_a_whole_limit_limits_the_records(org):
    body = (var("found", "SObject", coll=True, obj="Contact", out=True)
            + lookup("First", "Contact", [], out="found", first=False,
                     extra="<limit><numberValue>2.0</numberValue></limit>"))
    with org.transaction() as txn:
        txn.insert("Contact", [{"LastName": f"C{i}"} for i in range(3)])
    assert len(run(org, flow(body))["found"]) == 2


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_current_date_and_today_are_the_running_users_date(org, zone):
    """UTC+14 and UTC-11: at any moment the two dates differ, and at most one is UTC's."""
    with org.transaction() as txn:
        txn.update("User", [{"Id": txn.user_id, "TimeZoneSidKey": zone}])
    body = (var("today", "Date", out=True) + var("by_formula", "Date", out=True)
            + "<formulas><name>f</name><dataType>Date</dataType><expression>TODAY()"
              "</expression></formulas>"
            + assign("First", [("today", "Assign", ref("$Flow.CurrentDate")),
                               ("by_formula", "Assign", ref("f"))]))
    today = datetime.now(ZoneInfo(zone)).date()
    assert run(org, flow(body)) == {"today": today, "by_formula": today}


def test_current_date_of_a_user_whose_stored_zone_is_not_salesforces_fails(org):
    """A TimeZoneSidKey stored before the User describe restricted it (written past the DML
    check here) fails the interview naming the value, rather than claiming NOT_IMPLEMENTED."""
    with org.transaction() as txn:
        user = txn.retrieve("User", txn.user_id)
        org.db.write("User", {**user, "TimeZoneSidKey": "Mars/Olympus"}, new=False)
    body = var("today", "Date", out=True) + assign("First", [("today", "Assign",
                                                              ref("$Flow.CurrentDate"))])
    with pytest.raises(FlowFault) as exc:
        run(org, flow(body))
    assert exc.value.message == (
        "Flow F, element First: $Flow.CurrentDate: the running user's time zone "
        "(TimeZoneSidKey) 'Mars/Olympus' is not a Salesforce time zone; set the User's "
        "TimeZoneSidKey to one of the values of the User describe")
