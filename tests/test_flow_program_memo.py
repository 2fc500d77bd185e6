"""Remembered formula values are forgotten when what they read changes (flow/references.py).

A *stable* formula (reading only text, number, boolean or date variables) keeps its value until
one of those variables is assigned; every other formula value lasts one step. Each flow below
reads a formula, changes what it reads by one route (a later element, a loop, a subflow output,
a Get Records or Create Records result, an alias of a list or record, the clock, a fault), then
reads it again: a stale memo gives the first value twice.
"""

import uuid
from itertools import count

import pytest
from test_runtime import assign, create, decision, filt, flow, go, lookup, n, ref, run, s, var

from localorg.calendly import local_org
from localorg.flow import formula, references
from tests.fixtures.flowxml import formula_xml


@pytest.fixture
def org():
    return local_org()


def unique(prefix):
    """A flow name no other test deploys: formulas bind their functions when compiled, and a
    program is compiled once per flow name and XML in a process."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def loop(name, collection, item, body, done=None):
    return (f"<loops><name>{name}</name><label>{name}</label><collectionReference>{collection}"
            f"</collectionReference><assignNextValueToReference>{item}"
            f"</assignNextValueToReference>{go(body, 'nextValueConnector')}"
            f"{go(done, 'noMoreValuesConnector')}</loops>")


def test_reassigned_in_a_later_element(org):
    body = (var("x", value=s("a")) + var("before", out=True) + var("after", out=True)
            + formula_xml("f", '{!x} & "!"')
            + assign("First", [("before", "Assign", ref("f"))], "Check")
            + decision("Check", [("R", "and", [("f", "EqualTo", s("a!"))], "Change")])
            + assign("Change", [("x", "Assign", s("b"))], "Read")
            + assign("Read", [("after", "Assign", ref("f"))]))
    assert run(org, flow(body)) == {"before": "a!", "after": "b!"}


def test_through_another_formula_and_every_assignment_operator(org):
    body = (var("x", value=s("a")) + var("num", "Number", value=n(1)) + var("seen", out=True)
            + formula_xml("inner", '{!x} & TEXT({!num})')
            + formula_xml("outer", '"<" & {!inner} & ">"')
            + assign("First", [("seen", "Add", ref("outer")), ("x", "Add", s("b")),
                               ("seen", "Add", ref("outer"))], "Two")
            + assign("Two", [("num", "Subtract", n(3)), ("seen", "Add", ref("outer"))]))
    assert run(org, flow(body)) == {"seen": "<a1><ab1><ab-2>"}


def test_in_a_loop_by_its_item_and_by_a_counter(org):
    body = (var("items", coll=True, inp=True) + var("item") + var("i", "Number", value=n(0))
            + var("seen", out=True) + formula_xml("label", '{!item} & TEXT({!i}) & ","')
            + loop("First", "items", "item", "Count", "Last")
            + assign("Count", [("i", "Add", n(1))], "Note")
            + assign("Note", [("seen", "Add", ref("label"))], "First")
            + assign("Last", [("seen", "Add", ref("label"))]))
    assert run(org, flow(body), {"items": ["a", "b", "c"]}) == {"seen": "a1,b2,c3,c3,"}


def test_by_a_subflow_output(org):
    child = (var("given", inp=True) + var("back", out=True)
             + assign("First", [("back", "Assign", ref("twice"))])
             + formula_xml("twice", "{!given} & {!given}"))
    org.deploy_flow("Child", flow(child, name="Child"))
    body = (var("x", value=s("a")) + var("before", out=True) + var("after", out=True)
            + formula_xml("f", "UPPER({!x})")
            + assign("First", [("before", "Assign", ref("f"))], "Call")
            + "<subflows><name>Call</name><label>Call</label><flowName>Child</flowName>"
              f"<inputAssignments><name>given</name><value>{ref('x')}</value>"
              "</inputAssignments><outputAssignments><assignToReference>x</assignToReference>"
              "<name>back</name></outputAssignments>" + go("Read") + "</subflows>"
            + assign("Read", [("after", "Assign", ref("f"))]))
    assert run(org, flow(body)) == {"before": "A", "after": "AA"}


def test_by_get_records_and_create_records_results(org):
    with org.transaction() as txn:
        txn.insert("Contact", [{"LastName": "Found", "Email": "f@x.test"}])
    body = (var("name", value=s("none")) + var("newId", value=s("none"))
            + var("seen", out=True)
            + formula_xml("f", '{!name} & "/" & LEFT({!newId}, 3) & ";"')
            + assign("First", [("seen", "Add", ref("f"))], "Get")
            + lookup("Get", "Contact", [filt("Email", "EqualTo", s("f@x.test"))], nxt="Read",
                     extra="<outputAssignments><assignToReference>name</assignToReference>"
                           "<field>LastName</field></outputAssignments>"
                           "<storeOutputAutomatically>false</storeOutputAutomatically>")
            + assign("Read", [("seen", "Add", ref("f"))], "Make")
            + create("Make", obj="Contact", fields=[("LastName", s("New"))], id_to="newId",
                     nxt="Again")
            + assign("Again", [("seen", "Add", ref("f"))]))
    assert run(org, flow(body)) == {"seen": "none/non;Found/non;Found/003;"}


def test_record_fields_are_read_again_after_a_write_through_an_alias(org):
    body = (var("c", "SObject", obj="Contact") + var("alias", "SObject", obj="Contact")
            + var("seen", out=True) + formula_xml("f", '{!c.LastName} & ";"')
            + assign("First", [("c.LastName", "Assign", s("One")), ("alias", "Assign", ref("c")),
                               ("seen", "Add", ref("f"))], "Two")
            + assign("Two", [("alias.LastName", "Assign", s("Two"))], "Read")
            + assign("Read", [("seen", "Add", ref("f"))]))
    assert run(org, flow(body)) == {"seen": "One;Two;"}


@pytest.mark.parametrize("given,first", [
    (None, [("items", "Add", s("a")), ("t", "Assign", ref("items"))]),
    ({"t": ["a"]}, [("items", "Assign", ref("t"))]),
], ids=["assigned", "input"])
def test_a_text_variable_holding_a_list_turns_the_memo_off(org, given, first):
    """`t` (String) comes to hold the very list `items` holds, by an assignment or as the
    interview's input: adding to `items` changes what `t` renders though `t` is never assigned
    again."""
    body = (var("t", inp=True) + var("items", coll=True) + var("seen", out=True)
            + formula_xml("f", '"[" & {!t} & "]"')
            + assign("First", [*first, ("seen", "Add", ref("f"))], "Grow")
            + assign("Grow", [("items", "Add", s("b"))], "Read")
            + assign("Read", [("seen", "Add", ref("f"))]))
    assert run(org, flow(body), given) == {"seen": "[['a']][['a', 'b']]"}


def test_a_text_variable_holding_a_record_turns_the_memo_off(org):
    body = (var("t") + var("c", "SObject", obj="Contact") + var("seen", out=True)
            + formula_xml("f", 'IF(CONTAINS({!t} & "", "Two"), "two;", "one;")')
            + assign("First", [("c.LastName", "Assign", s("One")), ("t", "Assign", ref("c")),
                               ("seen", "Add", ref("f"))], "Rename")
            + assign("Rename", [("c.LastName", "Assign", s("Two"))], "Read")
            + assign("Read", [("seen", "Add", ref("f"))]))
    assert run(org, flow(body)) == {"seen": "one;two;"}


def test_values_read_while_the_variables_are_set_up_are_forgotten(org):
    """`early`'s default reads `f` before the input `x` is given."""
    body = (var("x", inp=True) + var("early", value=ref("f")) + var("late", out=True)
            + formula_xml("f", '{!x} & "!"')
            + assign("First", [("late", "Assign", ref("f"))]))
    assert run(org, flow(body), {"x": "in"}) == {"late": "in!"}


@pytest.mark.parametrize("function", ["NOW", "TODAY"])
def test_now_and_today_are_read_again_at_each_element(org, monkeypatch, function):
    ticks = count(1)
    if function == "NOW":
        monkeypatch.setitem(formula.FUNCTIONS, function, lambda: next(ticks))
    else:  # TODAY() is $Flow.CurrentDate, the running user's date
        monkeypatch.setattr(references, "_user_today", lambda iv, element: next(ticks))
    body = (var("x", value=s("same")) + var("seen", out=True)
            + formula_xml("f", f'{{!x}} & TEXT({function}()) & ";"')
            + assign("First", [("seen", "Add", ref("f"))], "Two")
            + assign("Two", [("seen", "Add", ref("f"))]))
    name = unique("Clock")  # its own program, compiled with this test's clock
    assert run(org, flow(body, name=name), name=name) == {"seen": "same1;same2;"}


def test_global_variables_are_read_again_at_each_element(org):
    body = (var("x", value=s("same")) + var("seen", out=True)
            + formula_xml("f", '{!x} & "<" & LEFT({!$Flow.FaultMessage}, 22) & ">"')
            + assign("First", [("seen", "Add", ref("f"))], "Fail")
            + create("Fail", obj="Contact", fields=[("FirstName", s("no last name"))],
                     fault="Read")
            + assign("Read", [("seen", "Add", ref("f"))]))
    assert run(org, flow(body)) == {"seen": "same<>same<This error occurred wh>"}


def test_now_is_read_once_per_element_in_decisions_too(org, monkeypatch):
    """No assignment runs between the two decisions: only the next element forgets NOW."""
    ticks = count(1)
    monkeypatch.setitem(formula.FUNCTIONS, "NOW", lambda: next(ticks))
    body = (var("ok", "Boolean", out=True) + formula_xml("f", "TEXT(NOW())")
            + decision("First", [("R", "and", [("f", "EqualTo", s("1")),
                                               ("f", "EqualTo", s("1"))], "Second")])
            + decision("Second", [("R", "and", [("f", "EqualTo", s("2"))], "Yes")])
            + assign("Yes", [("ok", "Assign", "<booleanValue>true</booleanValue>")]))
    name = unique("Clock")
    assert run(org, flow(body, name=name), name=name) == {"ok": True}
