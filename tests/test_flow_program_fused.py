"""The generated Python of a flow version (flow/fused.py) gives what the closures it replaces
give: the same values, flow outputs and rows for the project's flows, and the same errors when
a formula's function gets wrong arguments or a formula reads a variable not yet set up."""

import pytest
from test_runtime import assign, flow, ref, run, s, var

from bench.governor import setup
from localorg.calendly import local_org
from localorg.flow import model
from localorg.flow.interpreter import FlowFault
from localorg.flow.program import Program
from tests.fixtures.flowxml import formula_xml


@pytest.fixture
def org():
    return local_org()


@pytest.fixture(params=["generated", "closures"])
def generated(request, monkeypatch):
    """Each test runs with the generated accessors and with the closures alone."""
    if request.param == "closures":
        closures_only(monkeypatch)
    return request.param


def closures_only(monkeypatch):
    """Programs made from now on use closures alone; none made before is reused."""
    monkeypatch.setattr(Program, "GENERATED", False)
    model.load_shared.cache_clear()
    monkeypatch.setattr(model, "load_shared", lambda xml, name: model.load(xml, name))


def test_wrong_arguments_name_the_function(org, generated):
    body = (var("x", value="<stringValue>abc</stringValue>") + var("out", out=True)
            + formula_xml("bad", 'LEN({!x}, 2) & "!"')
            + assign("First", [("out", "Assign", ref("bad"))]))
    with pytest.raises(FlowFault) as exc:
        run(org, flow(body))
    assert exc.value.message == ("Flow F, element First: formula bad: Incorrect number of "
                                 "parameters for function 'LEN()'. Expected 1, received 2")


def test_wrong_arguments_in_a_formula_another_reads(org, generated):
    body = (var("x", value="<stringValue>abc</stringValue>") + var("out", out=True)
            + formula_xml("inner", "FIND({!x}, 5)", "Number")
            + formula_xml("outer", 'TEXT({!inner}) & "!"')
            + assign("First", [("out", "Assign", ref("outer"))]))
    with pytest.raises(FlowFault) as exc:
        run(org, flow(body))
    assert exc.value.message == (
        "Flow F, element outer: formula inner: Incorrect parameter type for function 'FIND()'")


def test_a_variable_read_before_it_is_set_up(org, generated):
    body = (var("early", value=ref("f")) + var("x") + var("out", out=True)
            + formula_xml("f", '{!x} & "!"')
            + assign("First", [("out", "Assign", ref("f"))]))
    with pytest.raises(FlowFault) as exc:
        run(org, flow(body))
    assert exc.value.message == "Flow F, element f: unknown resource 'x'"


def test_cast_errors_name_the_element(org, generated):
    body = (var("x", value="<stringValue>abc</stringValue>") + var("n", "Number")
            + formula_xml("bad", '{!x} & "1"', "Number")
            + assign("First", [("n", "Assign", ref("bad"))]))
    with pytest.raises(FlowFault) as exc:
        run(org, flow(body))
    assert exc.value.message == "Flow F, element First: expected a number, got 'abc1'"


def test_assign_to_a_record_field(org, generated):
    """An Assign to var.Field writes the field without reading it first only where reading it
    could neither fail nor convert: a new record, a field holding text, an unknown field and a
    date field holding text that is no date give what the closures give."""
    body = (var("ev", "SObject", obj="Event", inp=True, out=True) + var("c", "SObject",
                                                                         obj="Contact", out=True)
            + assign("First", [("c.LastName", "Assign", s("Smith")),
                               ("c.FirstName", "Assign", s("Ann")),
                               ("c.LastName", "Assign", s("Jones")),
                               ("ev.Subject", "Assign", s("Call"))]))
    event = {"attributes": {"type": "Event"}, "Subject": "old"}
    outputs = run(org, flow(body), {"ev": event})
    assert outputs["c"] == {"attributes": {"type": "Contact"}, "LastName": "Jones",
                            "FirstName": "Ann"}
    assert outputs["ev"] is event and event["Subject"] == "Call"
    unknown = flow(var("c", "SObject", obj="Contact", inp=True)
                   + assign("First", [("c.Nope", "Assign", s("x"))]))
    with pytest.raises(FlowFault) as exc:
        run(org, unknown, {"c": {"attributes": {"type": "Contact"}}}, name="G")
    assert exc.value.message == "Flow G, element First: Contact has no field 'Nope'"
    dated = flow(var("ev", "SObject", obj="Event", inp=True)
                 + assign("First", [("ev.StartDateTime", "Assign", s("x"))]))
    bad = {"attributes": {"type": "Event"}, "StartDateTime": "not a date"}
    with pytest.raises(ValueError):
        run(org, dated, {"ev": bad}, name="H")


GUESTS = ['Ann Smith <g{b}-0@bench.test>, "Bob" <G{b}-1@Bench.test>; g{b}-0@bench.test',
          "not-an-email, g{b}-2@bench.test\tx{b}@nowhere.test\n ann@acme.test", ""]


def project_run():
    """The flow log and the rows of one batch through the project's flows (display names,
    duplicates, a bad token, a host among the guests, unknown guests, no guests)."""
    org, records = setup(3, 3, naive=False)
    for b, record in enumerate(records):
        record["Calendly__EventGuestEmails__c"] = GUESTS[b].format(b=b)
    records[1]["Calendly__EventTypeKind__c"] = "Collective"
    records[1]["Calendly__EventHostEmails__c"] = "ann@acme.test, cy@nowhere.test"
    with org.transaction() as txn:
        txn.insert("Calendly__CalendlyAction__c", records)
    runs = org.flow_trigger.async_paths.runs
    logs = [(item["flow"], unstamped(item["inputs"]), unstamped(item["outputs"]))
            for entry in runs for item in entry["flow_log"]]
    rows = {sobject: unstamped(org.db.rows(sobject))
            for sobject in ("Calendly__CalendlyAction__c", "Event", "EventRelation")}
    return [entry["error"] for entry in runs], logs, rows


def unstamped(value):
    """`value` without what differs between two runs: record timestamps, and the order of
    EventRelations (a Get Records without a sort returns records in no set order), hence
    their Ids."""
    if isinstance(value, list):
        items = [unstamped(item) for item in value]
        if items and all(isinstance(item, dict) and "RelationId" in item for item in items):
            items = sorted(({k: v for k, v in item.items() if k != "Id"} for item in items),
                           key=lambda item: (item.get("EventId"), item["RelationId"]))
        return items
    if isinstance(value, dict):
        return {k: unstamped(v) for k, v in value.items()
                if k not in ("CreatedDate", "LastModifiedDate", "SystemModstamp")}
    return value


def test_project_flows_give_the_same_outputs_and_rows(monkeypatch):
    generated = project_run()
    closures_only(monkeypatch)
    closures = project_run()
    assert generated[0] == [None]
    assert len(generated[1]) == 9 and len(generated[2]["EventRelation"]) == 3
    assert generated == closures



CODE = "'); __import__('os')._exit(3) #"


def test_flow_text_stays_data_in_the_generated_python(org, generated):
    """Literals and merge text reach the generated source as bound values, never as code: a
    flow's text can't run Python in the local org (the process would exit with status 3)."""
    literal = '"\n' + CODE.replace("'", "&apos;")
    body = (var("x", value="<stringValue>abc</stringValue>") + var("out", out=True)
            + var("lit", out=True)
            + formula_xml("f", '"' + CODE + '" & {!x}')
            + assign("First", [("out", "Assign", ref("f")),
                               ("lit", "Assign", f"<stringValue>{literal}</stringValue>")]))
    outputs = run(org, flow(body))
    assert outputs["out"] == CODE + "abc"
    assert outputs["lit"] == '"\n' + CODE


def test_the_generated_code_is_what_runs(org):
    """The generated functions, not the closures, run a flow by default (else the tests above
    would compare the closures with themselves)."""
    xml = flow(var("x", value="<stringValue>abc</stringValue>") + var("out", out=True)
               + formula_xml("f", '{!x} & "!"')
               + assign("First", [("out", "Assign", ref("f"))]))
    assert run(org, xml)["out"] == "abc!"
    program = model.load_shared(xml, "F").program
    assert program.steps["First"].fn.__code__.co_filename == "<element First>"
    assert program._makers["f"].__code__.co_filename == "<formula>"
