"""Static checks of the three project flows (flows/*.flow-meta.xml), read with lxml.

Each rule is a small function returning the problems it finds, so every test runs it once on
the real flows (expecting none) and once on a copy mutated in the test (expecting the problem
named). Schema validity and Lightning Flow Scanner rules are checked by ``metacheck``; these
are the project's own contract rules (docs/design.md section 3) that neither tool knows.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
FLOWS_DIR = ROOT / "flows"
NS = "http://soap.sforce.com/2006/04/metadata"
M = f"{{{NS}}}"
FLOW_NAMES = ["CreateEventTemplate", "Create_Event_Template", "Create_Event_Participant_Template"]
PACKAGE_FIELDS = ["Calendly__EventGuestEmails__c", "Calendly__EventHostEmails__c"]

DATA_ELEMENTS = ["recordLookups", "recordCreates", "recordUpdates", "recordDeletes"]
NOT_IN_LOOP = DATA_ELEMENTS + ["subflows", "actionCalls", "apexPluginCalls"]
DESCRIBED = ["actionCalls", "assignments", "collectionProcessors", "constants", "customErrors",
             "decisions", "formulas", "loops", "recordCreates", "recordDeletes", "recordLookups",
             "recordUpdates", "subflows", "textTemplates", "variables", "waits"]
CONNECTORS = ["connector", "defaultConnector", "faultConnector", "nextValueConnector",
              "noMoreValuesConnector"]
# The pattern Lightning Flow Scanner's HardcodedId rule uses for 15/18-character record ids.
ID_LITERAL = re.compile(r"\b[a-zA-Z0-9]{5}0[a-zA-Z0-9]{9}(?:[a-zA-Z0-9]{3})?\b")
URL_LITERAL = re.compile(r"\b(?:https?|ftp)://|\bwww\.", re.IGNORECASE)


def load(name: str) -> etree._ElementTree:
    return etree.parse(str(FLOWS_DIR / f"{name}.flow-meta.xml"))


@pytest.fixture(scope="module")
def flows() -> dict[str, etree._ElementTree]:
    return {name: load(name) for name in FLOW_NAMES}


def text(el, path: str) -> str | None:
    found = el.find(_ns(path))
    return found.text if found is not None else None


def _ns(path: str) -> str:
    return "/".join(f"{M}{part}" for part in path.split("/"))


def elements(tree, kinds) -> list:
    return [el for kind in kinds for el in tree.getroot().findall(_ns(kind))]


def name_of(el) -> str:
    return text(el, "name") or "?"


# --- rules --------------------------------------------------------------------------------


def missing_descriptions(tree) -> list[str]:
    problems = []
    if not (text(tree.getroot(), "description") or "").strip():
        problems.append("flow has no <description>")
    for el in elements(tree, DESCRIBED):
        if not (text(el, "description") or "").strip():
            problems.append(f"{etree.QName(el).localname} {name_of(el)} has no <description>")
    for rule in tree.getroot().iter(f"{M}rules"):
        if not (text(rule, "description") or "").strip():
            problems.append(f"decision outcome {name_of(rule)} has no <description>")
    return problems


def missing_fault_paths(tree) -> list[str]:
    return [f"{etree.QName(el).localname} {name_of(el)} has no faultConnector"
            for el in elements(tree, DATA_ELEMENTS) if el.find(_ns("faultConnector")) is None]


def graph(tree) -> dict[str, tuple[str, list[str]]]:
    """Element name -> (element kind, names of the elements its connectors point at)."""
    nodes = {}
    for el in tree.getroot():
        if not isinstance(el.tag, str):
            continue
        name = text(el, "name")
        if name is None:
            continue
        targets = [t.text for t in el.iter(f"{M}targetReference")]
        nodes[name] = (etree.QName(el).localname, targets)
    return nodes


def work_inside_loops(tree) -> list[str]:
    """Data elements, subflows and action calls reachable from a loop body before it returns."""
    nodes = graph(tree)
    problems = []
    for loop in elements(tree, ["loops"]):
        loop_name = name_of(loop)
        first = text(loop, "nextValueConnector/targetReference")
        seen, todo = set(), [first] if first else []
        while todo:
            current = todo.pop()
            if current in seen or current == loop_name or current not in nodes:
                continue
            seen.add(current)
            kind, targets = nodes[current]
            if kind in NOT_IN_LOOP:
                problems.append(f"{kind} {current} runs inside loop {loop_name}")
            todo.extend(targets)
    return problems


def event_relation_creates(flow_trees) -> list[str]:
    """Names of the Create Records elements that insert EventRelation records."""
    found = []
    for tree in flow_trees:
        variables = {name_of(v): text(v, "objectType") for v in elements(tree, ["variables"])}
        for create in elements(tree, ["recordCreates"]):
            obj = text(create, "object") or variables.get(text(create, "inputReference") or "")
            if obj == "EventRelation":
                found.append(name_of(create))
    return found


def literal_texts(tree) -> list[str]:
    """Every text node and comment of the flow (not tag or namespace names)."""
    out = []
    for node in tree.getroot().iter():
        if node.text:
            out.append(node.text)
        if node.tail and node.tail.strip():
            out.append(node.tail)
    return out


REFERENCE_TAGS = ["elementReference", "assignToReference", "leftValueReference",
                  "outputReference", "inputReference", "collectionReference",
                  "assignNextValueToReference", "assignRecordIdToReference"]


def unused_resources(tree) -> list[str]:
    """Variables and formulas that no element or formula refers to (exact name, not substring:
    the scanner's UnusedVariable rule matches substrings, so `event` would hide in `eventId`)."""
    used = set()
    for tag in REFERENCE_TAGS:
        for node in tree.getroot().iter(f"{M}{tag}"):
            used.add(node.text.split(".")[0])
    for node in tree.getroot().iter(f"{M}expression", f"{M}errorMessage", f"{M}stringValue"):
        used.update(m.split(".")[0] for m in re.findall(r"\{!([^}]+)\}", node.text or ""))
    return [f"{etree.QName(el).localname} {name_of(el)} is never used"
            for el in elements(tree, ["variables", "formulas"]) if name_of(el) not in used]


def hard_coded_literals(tree) -> list[str]:
    problems = []
    for value in literal_texts(tree):
        problems += [f"id-like literal {m.group(0)!r}" for m in ID_LITERAL.finditer(value)]
        problems += [f"URL in {value[:60]!r}" for m in URL_LITERAL.finditer(value)]
    return problems


# --- tests on the real flows and on broken copies -----------------------------------------


def test_all_three_flows_exist_with_api_63(flows):
    for name, tree in flows.items():
        assert text(tree.getroot(), "apiVersion") == "63.0", name


def test_descriptions_everywhere(flows):
    for name, tree in flows.items():
        assert missing_descriptions(tree) == [], name


def test_missing_description_is_caught(flows):
    broken = copy.deepcopy(flows["Create_Event_Template"])
    create = elements(broken, ["recordCreates"])[0]
    create.remove(create.find(_ns("description")))
    assert missing_descriptions(broken) == ["recordCreates Create_Event has no <description>"]


def test_every_data_element_has_a_fault_path(flows):
    for name, tree in flows.items():
        assert missing_fault_paths(tree) == [], name
    assert sum(len(elements(t, DATA_ELEMENTS)) for t in flows.values()) >= 8


def test_missing_fault_path_is_caught(flows):
    broken = copy.deepcopy(flows["Create_Event_Participant_Template"])
    lookup = [el for el in elements(broken, ["recordLookups"])
              if name_of(el) == "Get_Leads"][0]
    lookup.remove(lookup.find(_ns("faultConnector")))
    assert missing_fault_paths(broken) == ["recordLookups Get_Leads has no faultConnector"]


def test_no_query_dml_or_subflow_inside_a_loop(flows):
    loops = 0
    for name, tree in flows.items():
        loops += len(elements(tree, ["loops"]))
        assert work_inside_loops(tree) == [], name
    assert loops >= 4  # the participant flow walks Contacts, Leads, Users and the emails


def test_query_moved_into_a_loop_is_caught(flows):
    """Point a loop-body outcome at Get_Leads: the query now runs once per Contact."""
    broken = copy.deepcopy(flows["Create_Event_Participant_Template"])
    add = [el for el in elements(broken, ["assignments"])
           if name_of(el) == "Add_Contact_As_Invitee"][0]
    add.find(_ns("connector/targetReference")).text = "Get_Leads"
    problems = work_inside_loops(broken)
    assert "recordLookups Get_Leads runs inside loop Loop_Guest_Contacts" in problems


def test_exactly_one_event_relation_insert(flows):
    assert event_relation_creates(flows.values()) == ["Create_Event_Relations"]
    event_flow = flows["Create_Event_Template"]
    create = [c for c in elements(event_flow, ["recordCreates"])
              if name_of(c) == "Create_Event_Relations"][0]
    assert text(create, "inputReference") == "eventRelations"
    variables = {name_of(v): v for v in elements(event_flow, ["variables"])}
    assert text(variables["eventRelations"], "isCollection") == "true"
    assert elements(flows["Create_Event_Participant_Template"], DATA_ELEMENTS[1:]) == []


def test_second_event_relation_insert_is_caught(flows):
    broken = copy.deepcopy(flows["Create_Event_Template"])
    create = [c for c in elements(broken, ["recordCreates"])
              if name_of(c) == "Create_Event_Relations"][0]
    twin = copy.deepcopy(create)
    twin.find(_ns("name")).text = "Create_Event_Relations_Again"
    create.addnext(twin)
    assert event_relation_creates([broken]) == ["Create_Event_Relations",
                                                "Create_Event_Relations_Again"]


def test_package_field_names_only_in_the_parent_flow():
    for path in sorted(FLOWS_DIR.glob("*.flow-meta.xml")):
        source = path.read_text(encoding="utf-8")
        for field in PACKAGE_FIELDS:
            if path.name.startswith("CreateEventTemplate."):
                assert field in source, f"{field} must be passed on by {path.name}"
            else:
                assert field not in source, f"{field} leaked into {path.name}"


def test_parent_runs_only_after_commit_and_passes_cohosts_for_collective_events(flows):
    """Nothing runs in Calendly's own transaction: the start has no immediate connector, its
    one path is Run Asynchronously (AsyncAfterCommit), so no failure can reject the booking."""
    parent = flows["CreateEventTemplate"]
    start = parent.getroot().find(_ns("start"))
    assert (text(start, "object"), text(start, "triggerType"), text(start, "recordTriggerType")) \
        == ("Calendly__CalendlyAction__c", "RecordAfterSave", "Create")
    assert start.find(_ns("connector")) is None
    paths = start.findall(_ns("scheduledPaths"))
    assert [text(p, "pathType") for p in paths] == ["AsyncAfterCommit"]
    assert text(paths[0], "connector/targetReference") == "Sync_Booking"
    assert elements(parent, ["customErrors"]) == []
    cohosts = [f for f in elements(parent, ["formulas"]) if name_of(f) == "cohostEmails"][0]
    assert text(cohosts, "expression") == (
        'IF({!$Record.Calendly__EventTypeKind__c} = "Collective", '
        '{!$Record.Calendly__EventHostEmails__c}, "")')


def test_every_failure_is_written_on_the_booking(flows):
    """Each data element's fault path ends in the outcome write (Sync_Status__c Failed and the
    error text), and the outcome write itself has a fault path."""
    tree = flows["Create_Event_Template"]
    nodes = graph(tree)
    for el in elements(tree, DATA_ELEMENTS):
        if name_of(el) == "Save_Booking_Outcome":
            assert text(el, "faultConnector/targetReference") == "Keep_Outcome_Fault"
            continue
        seen, todo = set(), [text(el, "faultConnector/targetReference")]
        while todo:
            current = todo.pop()
            if current in seen or current not in nodes:
                continue
            seen.add(current)
            todo += nodes[current][1]
        assert "Save_Booking_Outcome" in seen, name_of(el)
    report = [a for a in elements(tree, ["assignments"]) if name_of(a) == "Report_Fault"][0]
    items = {text(i, "assignToReference"): i for i in report.findall(_ns("assignmentItems"))}
    assert text(items["faultMessage"], "value/elementReference") == "$Flow.FaultMessage"
    assert text(items["syncStatus"], "value/stringValue") == "Failed"
    participant = flows["Create_Event_Participant_Template"]
    assert {text(el, "faultConnector/targetReference")
            for el in elements(participant, DATA_ELEMENTS)} == {"Report_Fault"}


def test_long_text_is_clipped_to_the_event_fields(flows):
    formulas = {name_of(f): text(f, "expression")
                for f in elements(flows["Create_Event_Template"], ["formulas"])}
    assert formulas["eventSubject"] == "LEFT({!booking.Calendly__EventSubject__c}, 255)"
    assert formulas["eventLocation"] == "LEFT({!booking.Calendly__Location__c}, 255)"
    assert formulas["eventDescription"] == "LEFT({!booking.Calendly__EventDescription__c}, 32000)"


def test_uuid_lookup_ignores_child_events(flows):
    lookup = [g for g in elements(flows["Create_Event_Template"], ["recordLookups"])
              if name_of(g) == "Get_Event_By_Invitee_Uuid"][0]
    filters = {(text(f, "field"), text(f, "operator")): f for f in lookup.findall(_ns("filters"))}
    assert text(filters[("IsChild", "EqualTo")], "value/booleanValue") == "false"


def test_every_variable_and_formula_is_used(flows):
    for name, tree in flows.items():
        assert unused_resources(tree) == [], name


def test_unused_variable_is_caught(flows):
    broken = copy.deepcopy(flows["Create_Event_Template"])
    spare = copy.deepcopy(elements(broken, ["variables"])[0])
    spare.find(_ns("name")).text = "eventSpare"
    broken.getroot().append(spare)
    assert unused_resources(broken) == ["variables eventSpare is never used"]


def test_no_hard_coded_ids_or_urls(flows):
    for name, tree in flows.items():
        assert hard_coded_literals(tree) == [], name


def test_hard_coded_id_and_url_are_caught(flows):
    broken = copy.deepcopy(flows["Create_Event_Template"])
    owner = [a for a in elements(broken, ["assignments"])
             if name_of(a) == "Set_Owner_And_Who"][0]
    value = owner.find(_ns("assignmentItems/value"))
    value.clear()
    etree.SubElement(value, f"{M}stringValue").text = "005000000000001AAA"
    broken.getroot().find(_ns("description")).text += " See https://example.test/help."
    problems = hard_coded_literals(broken)
    assert "id-like literal '005000000000001AAA'" in problems
    assert any(p.startswith("URL in") for p in problems)
