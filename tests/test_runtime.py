"""Flow runtime: element semantics, faults, bulkification, triggers, limits (own fixture flows)."""

from decimal import Decimal
from pathlib import Path

import pytest

from localorg.calendly import local_org
from localorg.conditions import Cmp
from localorg.errors import DmlError, LimitException, NotImplementedInLocalOrg
from localorg.flow import model
from localorg.flow.interpreter import FlowFault
from localorg.flow.trigger import run_flow
from tests.fixtures.flowxml import (
    assign,
    b,
    create,
    decision,
    filt,
    flow,
    go,
    lookup,
    n,
    ref,
    s,
    var,
)


@pytest.fixture
def org():
    return local_org()


def run(org, xml, inputs=None, name="F"):
    org.deploy_flow(name, xml)
    with org.transaction() as txn:
        return run_flow(org, txn, name, inputs)


# ----- assignments, decisions, loops, formulas ------------------------------------------------

def test_collection_assignment_operators(org):
    body = (var("c", coll=True, out=True) + var("other", coll=True) + var("count", "Number",
                                                                         out=True)
            + assign("First", [
                ("c", "Add", s("a")), ("c", "Add", s("b")), ("c", "Add", s("c")),
                ("c", "Add", s("b")), ("c", "AddAtStart", s("z")),
                ("other", "Add", s("b")), ("other", "Add", s("c")),
                ("count", "AssignCount", ref("c")),
            ], "Second")
            + assign("Second", [("c", "RemoveFirst", s("b"))], "Third")
            + assign("Third", [("c", "RemoveUncommon", ref("other"))], None))
    out = run(org, flow(body))
    assert out == {"c": ["c", "b"], "count": Decimal(5)}


@pytest.mark.parametrize("op,value,expected", [
    ("RemoveAll", s("b"), ["a", "c"]),
    ("RemoveAfterFirst", s("b"), ["a", "b"]),
    ("RemoveBeforeFirst", s("b"), ["b", "c", "b"]),
    ("RemovePosition", n(2), ["a", "c", "b"]),
])
def test_remove_operators(org, op, value, expected):
    body = (var("c", coll=True, out=True)
            + assign("First", [("c", "Add", s(x)) for x in "abcb"], "Second")
            + assign("Second", [("c", op, value)]))
    assert run(org, flow(body))["c"] == expected


def test_number_text_and_subtract(org):
    body = (var("t", out=True, value=s("x")) + var("num", "Number", out=True, value=n(10))
            + assign("First", [("t", "Add", s("y")), ("num", "Add", n(5)),
                               ("num", "Subtract", n(3))]))
    assert run(org, flow(body)) == {"t": "xy", "num": Decimal(12)}


def test_decision_custom_logic_and_loop_desc(org):
    body = (var("items", coll=True, inp=True) + var("item") + var("seen", out=True)
            + var("verdict", out=True)
            + "<loops><name>First</name><label>L</label><collectionReference>items"
              "</collectionReference><iterationOrder>Desc</iterationOrder>"
              "<assignNextValueToReference>item</assignNextValueToReference>"
            + go("Append", "nextValueConnector") + go("Decide", "noMoreValuesConnector")
            + "</loops>"
            + assign("Append", [("seen", "Add", ref("item"))], "First")
            + decision("Decide", [("R", "1 AND (2 OR NOT 3)", [
                ("seen", "EqualTo", s("cba")), ("seen", "Contains", s("zz")),
                ("seen", "StartsWith", s("x"))], "Yes")], default=None)
            + assign("Yes", [("verdict", "Assign", s("yes"))]))
    assert run(org, flow(body), {"items": ["a", "b", "c"]}) == {"seen": "cba", "verdict": "yes"}
    assert run(org, flow(body), {"items": ["a"]}) == {"seen": "a", "verdict": None}


def test_decision_text_is_case_sensitive(org):
    body = (var("v", out=True) + decision("First", [("R", "and", [
        ("$GlobalConstant.EmptyString", "IsNull", b(True))], None)])
        + "")
    run(org, flow(body))  # a decision without a taken connector ends the interview
    body = (var("v", out=True) + var("x", value=s("Abc"))
            + decision("First", [("R", "and", [("x", "EqualTo", s("abc"))], "Hit")])
            + assign("Hit", [("v", "Assign", s("hit"))]))
    assert run(org, flow(body))["v"] is None


def test_formula_template_constant_and_globals(org):
    body = (var("out", out=True) + var("who", out=True)
            + "<formulas><name>greeting</name><dataType>String</dataType><expression>"
              "UPPER({!hello}) &amp; &quot;!&quot;</expression></formulas>"
            + "<constants><name>hello</name><dataType>String</dataType><value>"
              "<stringValue>hi</stringValue></value></constants>"
            + "<textTemplates><name>tpl</name><text>{!greeting} from {!$User.Email}</text>"
              "</textTemplates>"
            + assign("First", [("out", "Assign", ref("tpl")), ("who", "Assign", ref("$User.Id"))]))
    out = run(org, flow(body))
    assert out == {"out": "HI! from admin@localorg.test", "who": org.default_user_id}


def test_formula_values_follow_the_variables_they_read(org):
    body = (var("x", value=s("a")) + var("item") + var("items", coll=True, inp=True)
            + var("before", out=True) + var("after", out=True) + var("seen", out=True)
            + "<formulas><name>f</name><dataType>String</dataType><expression>{!x} &amp; "
              "&quot;!&quot;</expression></formulas><formulas><name>g</name><dataType>String"
              "</dataType><expression>{!item} &amp; {!f}</expression></formulas>"
            + assign("First", [("before", "Assign", ref("f")), ("x", "Assign", s("b")),
                               ("after", "Assign", ref("f"))], "Loop")
            + "<loops><name>Loop</name><label>L</label><collectionReference>items"
              "</collectionReference><assignNextValueToReference>item"
              "</assignNextValueToReference>" + go("Add", "nextValueConnector") + "</loops>"
            + assign("Add", [("seen", "Add", ref("g"))], "Loop"))
    out = run(org, flow(body), {"items": ["1", "2"]})
    assert out == {"before": "a!", "after": "b!", "seen": "1b!2b!"}


# ----- data elements, faults ----------------------------------------------------------------

def seed(org):
    org.allow_audit_fields(True)  # the dates below come from a load with that permission
    with org.transaction() as txn:
        return txn.insert("Contact", [
            {"LastName": "Old", "Email": "a@x.test", "LastModifiedDate": "2026-01-01T00:00:00Z"},
            {"LastName": "New", "Email": "A@X.test", "LastModifiedDate": "2026-02-01T00:00:00Z"},
            {"LastName": "Other", "Email": "b@x.test"},
        ])


def test_get_records_sort_first_and_null(org):
    seed(org)
    sort = "<sortField>LastModifiedDate</sortField><sortOrder>Desc</sortOrder>"
    body = (var("email", inp=True) + var("c", "SObject", obj="Contact") + var("name", out=True)
            + var("found", "Boolean", out=True, value=b(False))
            + lookup("First", "Contact", [filt("Email", "EqualTo", ref("email"))], out="c",
                     nxt="D", extra=sort + "<queriedFields>Id</queriedFields>"
                                          "<queriedFields>LastName</queriedFields>")
            + decision("D", [("R", "and", [("c", "IsNull", b(False))], "Yes")])
            + assign("Yes", [("name", "Assign", ref("c.LastName")),
                             ("found", "Assign", b(True))]))
    assert run(org, flow(body), {"email": "a@x.TEST"}) == {"name": "New", "found": True}
    assert run(org, flow(body), {"email": "zz@x.test"}) == {"name": None, "found": False}


def test_get_records_in_and_filter_logic(org):
    seed(org)
    body = (var("emails", coll=True, inp=True) + var("rows", "SObject", coll=True, out=True,
                                                     obj="Contact")
            + lookup("First", "Contact", [filt("Email", "In", ref("emails")),
                                          filt("LastName", "EqualTo", s("Old")),
                                          filt("LastName", "StartsWith", s("Oth"))],
                     out="rows", first=False,
                     extra="<filterLogic>1 AND (2 OR 3)</filterLogic>"
                           "<queriedFields>LastName</queriedFields>"))
    rows = run(org, flow(body), {"emails": ["a@x.test", "b@x.test"]})["rows"]
    assert sorted(r["LastName"] for r in rows) == ["Old", "Other"]


def test_create_fault_path_sets_fault_message(org):
    body = (var("msg", out=True)
            + create("First", obj="Contact", fields=[("FirstName", s("no last name"))],
                     fault="Catch")
            + assign("Catch", [("msg", "Assign", ref("$Flow.FaultMessage"))]))
    msg = run(org, flow(body))["msg"]
    assert msg.startswith("This error occurred when the flow tried to create records: "
                          "REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]")


@pytest.mark.parametrize("obj, fields, code", [
    ("Contact", [("LastName", s("Old")), ("CreatedDate", s("2020-01-01T00:00:00Z"))],
     "INVALID_FIELD_FOR_INSERT_UPDATE: Unable to create/update fields: CreatedDate."),
    ("Event", [("Subject", s("Call")), ("StartDateTime", s("2026-03-02T10:00:00Z")),
               ("DurationInMinutes", n(30)), ("ShowAs", s("Tentative"))],
     "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: Show Time As: bad value for restricted "
     "picklist field: Tentative"),
])
def test_flow_dml_obeys_the_describe_like_the_api(org, obj, fields, code):
    """The flow runtime's Create Records goes through the same enforcement as REST."""
    body = (var("msg", out=True) + create("First", obj=obj, fields=fields, fault="Catch")
            + assign("Catch", [("msg", "Assign", ref("$Flow.FaultMessage"))]))
    assert code in run(org, flow(body))["msg"]


def test_unhandled_fault_raises(org):
    body = create("First", obj="Contact", fields=[("FirstName", s("x"))])
    with pytest.raises(FlowFault) as exc:
        run(org, flow(body))
    assert "REQUIRED_FIELD_MISSING" in exc.value.message


def test_create_update_delete_records(org):
    body = (var("c", "SObject", obj="Contact", out=True) + var("newId", out=True)
            + assign("First", [("c.LastName", "Assign", s("Rec")), ("c.Email", "Assign",
                                                                   s("r@x.test"))], "Make")
            + create("Make", input_ref="c", nxt="Make2")
            + create("Make2", obj="Contact", fields=[("LastName", s("Two"))], id_to="newId",
                     nxt="Upd")
            + "<recordUpdates><name>Upd</name><label>Upd</label>" + go("Del")
            + filt("LastName", "EqualTo", s("Rec"))
            + "<inputAssignments><field>Title</field><value><stringValue>Boss</stringValue>"
              "</value></inputAssignments><object>Contact</object></recordUpdates>"
            + "<recordDeletes><name>Del</name><label>Del</label>"
            + filt("LastName", "EqualTo", s("Two")) + "<object>Contact</object></recordDeletes>")
    out = run(org, flow(body))
    assert out["c"]["Id"].startswith("003") and out["newId"].startswith("003")
    with org.transaction() as txn:
        rows = txn.query("Contact", ["LastName", "Title"])
    assert rows == [{"LastName": "Rec", "Title": "Boss"}]


def test_subflow_inputs_outputs_records_and_collections(org):
    child_flow = flow(var("who", "SObject", inp=True, obj="Contact") + var("tags", coll=True,
                                                                            inp=True)
                      + var("label", out=True) + var("more", coll=True, out=True)
                      + assign("First", [("label", "Assign", ref("who.LastName")),
                                         ("more", "Add", ref("tags")),
                                         ("more", "Add", s("extra"))]), name="Child")
    org.deploy_flow("Child", child_flow)
    parent = (var("c", "SObject", obj="Contact") + var("got", out=True)
              + var("list", coll=True, out=True)
              + assign("First", [("c.LastName", "Assign", s("Kid"))], "Call")
              + "<subflows><name>Call</name><label>Call</label><flowName>Child</flowName>"
                "<inputAssignments><name>who</name><value>" + ref("c") + "</value>"
                "</inputAssignments><inputAssignments><name>tags</name><value>"
              + ref("list") + "</value></inputAssignments><outputAssignments>"
                "<assignToReference>got</assignToReference><name>label</name>"
                "</outputAssignments><outputAssignments><assignToReference>list"
                "</assignToReference><name>more</name></outputAssignments></subflows>")
    assert run(org, flow(parent)) == {"got": "Kid", "list": ["extra"]}


def test_formula_value_error_is_a_flow_fault_naming_the_element(org):
    body = (var("n", "Number") + "<formulas><name>bad</name><dataType>Number</dataType>"
            "<expression>&quot;abc&quot;</expression></formulas>"
            + assign("First", [("n", "Assign", ref("bad"))]))
    with pytest.raises(FlowFault) as exc:
        run(org, flow(body))
    assert exc.value.message == "Flow F, element First: expected a number, got 'abc'"


def test_subflow_rejects_non_input(org):
    org.deploy_flow("Child", flow(var("x") + assign("First", [("x", "Assign", s("a"))]),
                                  name="Child"))
    parent = ("<subflows><name>First</name><label>C</label><flowName>Child</flowName>"
              "<inputAssignments><name>x</name><value><stringValue>v</stringValue></value>"
              "</inputAssignments></subflows>")
    with pytest.raises(FlowFault) as exc:
        run(org, flow(parent))
    assert "not an input variable" in exc.value.message


def test_unsupported_element_listed_and_fails_when_reached(org):
    screen = "<screens><name>Hello</name><label>Hello</label></screens>"
    body = (var("go", "Boolean", inp=True) + screen
            + decision("First", [("R", "and", [("go", "EqualTo", b(True))], "Hello")]))
    loaded = model.load(flow(body), "F")
    assert loaded.unsupported == ["screens:Hello"]
    assert run(org, flow(body), {"go": False}) == {}
    with pytest.raises(NotImplementedInLocalOrg) as exc:
        run(org, flow(body), {"go": True})
    assert exc.value.code == "NOT_IMPLEMENTED"
    assert exc.value.message == ("The local org does not implement screens elements ('Hello' "
                                 "can't run) (flow F, element Hello).")


def test_every_flow_node_kind_of_the_schema_is_run_or_named():
    """Each element kind the Metadata API schema lets a connector reach (types extending FlowNode)
    is either executed or reported by name; none is silently unknown."""
    import simple_salesforce
    from lxml import etree

    xs = "{http://www.w3.org/2001/XMLSchema}"
    wsdl = Path(simple_salesforce.__file__).with_name("metadata.wsdl")
    types = {t.get("name"): t for t in etree.parse(str(wsdl)).iter(xs + "complexType")}

    def is_node(name):
        ext = types[name].find(f".//{xs}extension") if name in types else None
        base = ext.get("base").split(":")[-1] if ext is not None else None
        return base == "FlowNode" or (base is not None and is_node(base))

    kinds = {e.get("name") for e in types["Flow"].iter(xs + "element")
             if is_node((e.get("type") or "").split(":")[-1])} - {"start"}
    assert "recordLookups" in kinds and "screens" in kinds
    assert kinds - model.SUPPORTED - model.UNSUPPORTED == set()


def test_unimplemented_operator_in_trigger_is_not_a_flow_failure(org):
    body = (decision("First", [("R", "and", [("$Record.LastName", "WasSet", b(True))], None)]))
    org.deploy_flow("Odd", flow(body, trigger=("Lead", ""), name="Odd"))
    with pytest.raises(NotImplementedInLocalOrg) as exc:
        leads(org, 1)
    assert "condition operator WasSet (flow Odd, element First)" in exc.value.message
    with org.transaction() as txn:
        assert txn.count("Lead") == 0


def test_load_errors_name_the_problem():
    with pytest.raises(model.FlowLoadError) as exc:
        model.load(flow(assign("First", [], "Nowhere")), "Bad")
    assert "Nowhere" in exc.value.message
    with pytest.raises(model.FlowLoadError) as exc:
        model.load(flow(decision("First", [("R", "and", [], "Ghost")])), "Bad")
    assert "Ghost" in exc.value.message
    with pytest.raises(model.FlowLoadError) as exc:
        model.load(flow("<formulas><name>f</name><dataType>String</dataType>"
                        "<expression>LEN(1</expression></formulas>" + assign("First", [])), "Bad")
    assert "formula f" in exc.value.message



# ----- record-triggered flows, bulkification, limits ------------------------------------------

def lead_trigger(extra_start="", body_fault=None):
    """After insert of a Lead with Company Acme: find a Contact by email, create a Contact."""
    return flow(
        var("match", "SObject", obj="Contact")
        + lookup("First", "Contact", [filt("Email", "EqualTo", ref("$Record.Email"))],
                 out="match", nxt="Make")
        + create("Make", obj="Contact", fields=[
            ("LastName", ref("label")), ("Email", ref("$Record.Email"))], fault=body_fault)
        + "<formulas><name>label</name><dataType>String</dataType><expression>"
          "&quot;From &quot; &amp; {!$Record.LastName} &amp; IF(ISNULL({!match}), "
          "&quot;&quot;, &quot; (dup)&quot;)</expression></formulas>",
        trigger=("Lead", extra_start), name="LeadFlow")


def leads(org, count, company="Acme", **extra):
    with org.transaction() as txn:
        txn.insert("Lead", [{"LastName": f"L{i}", "Company": company, "Email": f"l{i}@x.test",
                             **extra} for i in range(count)])
        return txn.usage.as_dict()


def test_record_triggered_flow_bulkified(org):
    org.deploy_flow("LeadFlow", lead_trigger())
    usage = leads(org, 200)
    assert usage == {"soql": 1, "query_rows": 0, "dml": 2, "dml_rows": 400}
    with org.transaction() as txn:
        assert txn.count("Contact", Cmp("LastName", "LIKE", "From L%")) == 200
    usage = leads(org, 3)  # 3 more: each now finds no Contact with its own email
    assert usage["soql"] == 1 and usage["dml"] == 2


def test_subflow_data_elements_bulkified_across_interviews(org):
    """A Get and a Create inside a subflow called by 30 trigger interviews: 1 query, 1 DML."""
    child = (var("email", inp=True) + var("found", "SObject", obj="Contact")
             + lookup("First", "Contact", [filt("Email", "EqualTo", ref("email"))],
                      out="found", nxt="Make")
             + create("Make", obj="Contact", fields=[("LastName", s("Sub")),
                                                     ("Email", ref("email"))]))
    org.deploy_flow("Child", flow(child, name="Child"))
    parent = ("<subflows><name>First</name><label>C</label><flowName>Child</flowName>"
              "<inputAssignments><name>email</name><value>" + ref("$Record.Email")
              + "</value></inputAssignments></subflows>")
    org.deploy_flow("LeadFlow", flow(parent, trigger=("Lead", ""), name="LeadFlow"))
    usage = leads(org, 30)
    assert (usage["soql"], usage["dml"], usage["dml_rows"]) == (1, 2, 60)
    with org.transaction() as txn:
        assert txn.count("Contact", Cmp("LastName", "=", "Sub")) == 30


def test_entry_conditions(org):
    extra = ("<filterLogic>and</filterLogic>" + filt("Company", "EqualTo", s("Acme")))
    org.deploy_flow("LeadFlow", lead_trigger(extra))
    leads(org, 2, company="Other")
    leads(org, 1, company="Acme")
    with org.transaction() as txn:
        assert txn.count("Contact") == 1


def test_inactive_flow_does_not_run(org):
    org.deploy_flow("LeadFlow", lead_trigger().replace(b"<status>Active", b"<status>Draft"))
    assert leads(org, 2)["dml"] == 1


def test_unhandled_fault_in_trigger_rolls_back(org):
    bad = lead_trigger().replace(b"<field>LastName</field>", b"<field>FirstName</field>")
    org.deploy_flow("LeadFlow", bad)
    with pytest.raises(DmlError) as exc:
        leads(org, 2)
    assert exc.value.code == "CANNOT_EXECUTE_FLOW_TRIGGER"
    assert exc.value.message.startswith("We can't save this record because the “LeadFlow” "
                                        "process failed.")
    with org.transaction() as txn:
        assert txn.count("Lead") == 0


def test_failing_entry_formula_fails_the_save_like_a_flow(org):
    extra = "<filterFormula>1 / 0 = 1</filterFormula>"
    org.deploy_flow("LeadFlow", lead_trigger(extra))
    with pytest.raises(DmlError) as exc:
        leads(org, 1)
    assert exc.value.code == "CANNOT_EXECUTE_FLOW_TRIGGER"
    assert "entry formula: division by zero" in exc.value.message
    with org.transaction() as txn:
        assert txn.count("Lead") == 0


def test_custom_error_rolls_back(org):
    body = ("<customErrors><name>First</name><label>E</label><customErrorMessages>"
            "<errorMessage>No {!$Record.LastName} allowed</errorMessage><isFieldError>false"
            "</isFieldError></customErrorMessages></customErrors>")
    org.deploy_flow("Guard", flow(body, trigger=("Lead", ""), name="Guard"))
    with pytest.raises(DmlError) as exc:
        leads(org, 1)
    assert exc.value.code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert exc.value.message == "No L0 allowed" and exc.value.fields == []


def test_custom_field_error_names_the_field(org):
    body = ("<customErrors><name>First</name><label>E</label><customErrorMessages>"
            "<errorMessage>Pick a real company</errorMessage><fieldSelection>Company"
            "</fieldSelection><isFieldError>true</isFieldError></customErrorMessages>"
            "</customErrors>")
    org.deploy_flow("Guard", flow(body, trigger=("Lead", ""), name="Guard"))
    with pytest.raises(DmlError) as exc:
        leads(org, 1)
    assert (exc.value.code, exc.value.message, exc.value.fields) == (
        "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Pick a real company", ["Company"])
    with org.transaction() as txn:
        assert txn.count("Lead") == 0


def test_get_inside_loop_hits_soql_limit(org):
    body = (var("emails", coll=True) + var("e") + var("c", "SObject", obj="Contact")
            + assign("First", [("emails", "Add", s(f"x{i}@x.test")) for i in range(101)], "L")
            + "<loops><name>L</name><label>L</label><collectionReference>emails"
              "</collectionReference><assignNextValueToReference>e</assignNextValueToReference>"
            + go("Get", "nextValueConnector") + "</loops>"
            + lookup("Get", "Contact", [filt("Email", "EqualTo", ref("e"))], out="c", nxt="L",
                     fault="L"))
    org.deploy_flow("Naive", flow(body, trigger=("Lead", ""), name="Naive"))
    with pytest.raises(LimitException) as exc:
        leads(org, 1)
    assert str(exc.value) == "System.LimitException: Too many SOQL queries: 101"
    with org.transaction() as txn:
        assert txn.count("Lead") == 0


def test_before_save_flow_is_not_skipped(org):
    xml = lead_trigger().replace(b"RecordAfterSave", b"RecordBeforeSave")
    org.deploy_flow("LeadFlow", xml)
    with pytest.raises(NotImplementedInLocalOrg) as exc:
        leads(org, 1)
    assert "RecordBeforeSave flow LeadFlow" in exc.value.message


def test_update_triggered_flow_is_not_skipped(org):
    xml = lead_trigger().replace(b"<recordTriggerType>Create", b"<recordTriggerType>Update")
    org.deploy_flow("LeadFlow", xml)
    leads(org, 1)
    with org.transaction() as txn:
        lead_id = txn.query("Lead", ["Id"])[0]["Id"]
    with pytest.raises(NotImplementedInLocalOrg):
        with org.transaction() as txn:
            txn.update("Lead", [{"Id": lead_id, "LastName": "Changed"}])


def test_delete_triggered_flow_is_not_skipped(org):
    xml = (lead_trigger().replace(b"<recordTriggerType>Create", b"<recordTriggerType>Delete")
           .replace(b"RecordAfterSave", b"RecordBeforeDelete"))
    leads(org, 1)
    with org.transaction() as txn:
        lead_id = txn.query("Lead", ["Id"])[0]["Id"]
    org.deploy_flow("LeadFlow", xml)
    with pytest.raises(NotImplementedInLocalOrg) as exc:
        with org.transaction() as txn:
            txn.delete("Lead", [lead_id])
    assert "record-triggered flow LeadFlow on delete of Lead" in exc.value.message
    with org.transaction() as txn:
        assert txn.count("Lead") == 1
        contact = txn.insert("Contact", [{"LastName": "C"}])
        txn.delete("Contact", contact)  # no delete flow on Contact: the delete runs
        assert txn.count("Contact") == 0


def test_flow_log_records_interviews(org):
    org.deploy_flow("LeadFlow", lead_trigger())
    with org.transaction() as txn:
        txn.insert("Lead", [{"LastName": "A", "Company": "Acme"}])
        assert [e["flow"] for e in txn.flow_log] == ["LeadFlow"]


def guard(org):
    body = ("<customErrors><name>First</name><label>E</label><customErrorMessages>"
            "<errorMessage>No {!$Record.LastName} allowed</errorMessage><isFieldError>false"
            "</isFieldError></customErrorMessages></customErrors>")
    extra = "<filterLogic>and</filterLogic>" + filt("LastName", "EqualTo", s("Bad"))
    org.deploy_flow("Guard", flow(body, trigger=("Lead", extra), name="Guard"))
    return [{"LastName": n, "Company": "C"} for n in ("Ok1", "Bad", "Ok2")]


def test_partial_success_fails_only_the_record_whose_flow_failed(org):
    rows = guard(org)
    with org.transaction() as txn:
        results = txn.insert("Lead", rows, all_or_none=False)
        assert [r["success"] for r in results] == [True, False, True]
        assert results[1]["errors"][0]["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
        assert sorted(r["LastName"] for r in txn.query("Lead", ["LastName"])) == ["Ok1", "Ok2"]


def test_all_or_none_names_the_failing_record(org):
    rows = guard(org)
    with pytest.raises(DmlError) as exc:
        with org.transaction() as txn:
            txn.insert("Lead", rows)
    assert exc.value.index == 1 and exc.value.message == "No Bad allowed"
    with org.transaction() as txn:
        assert txn.count("Lead") == 0


def test_a_parent_records_field_through_a_lookup_is_not_implemented(org):
    """{!c.Account.Name}: Salesforce reads the Account with a query; with no source for its
    governor charge, the runtime says NOT_IMPLEMENTED instead of reading it for free."""
    with org.transaction() as txn:
        [account_id] = txn.insert("Account", [{"Name": "Acme"}])
        [contact_id] = txn.insert("Contact", [{"LastName": "Client", "AccountId": account_id}])
    body = (var("contactId", inp=True) + var("c", "SObject", obj="Contact")
            + var("out", out=True)
            + lookup("First", "Contact", [filt("Id", "EqualTo", ref("contactId"))], out="c",
                     nxt="Read_Parent")
            + assign("Read_Parent", [("out", "Assign", ref("c.Account.Name"))]))
    with pytest.raises(NotImplementedInLocalOrg) as exc:
        run(org, flow(body), {"contactId": contact_id})
    assert exc.value.code == "NOT_IMPLEMENTED"
    assert "the cross-object reference Contact.Account" in exc.value.message
    assert "element Read_Parent" in exc.value.message
