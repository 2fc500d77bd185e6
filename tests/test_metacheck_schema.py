"""Schema check: Salesforce's Metadata API XSD (simple-salesforce's WSDL) via metacheck."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from metacheck import schema

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "flows"
PROJECT_FLOWS = sorted((ROOT / "flows").glob("*.flow-meta.xml"))
CORPUS_FLOWS = sorted(CORPUS.glob("*.flow-meta.xml"))
# The two corpus flows (API 65.0) that use elements/values the 63.0 schema lacks.
NEWER_WITH_DIFFERENCES = {
    "coral-cloud__PersonalizedSchedule.flow-meta.xml": "styleProperties",
    "coral-cloud__Send_Verification_Code.flow-meta.xml": "actionType",
}
PARTICIPANT_FLOW = ROOT / "flows" / "Create_Event_Participant_Template.flow-meta.xml"
SERVICE_DELIVERY = CORPUS / "PMM__ServiceDelivery.flow-meta.xml"


@pytest.mark.corpus
def test_corpus_is_beside_the_checkout():
    assert len(CORPUS_FLOWS) >= 13, f"expected the 13 corpus flows in {CORPUS} (../shared)"


def test_schema_version_comes_from_the_wsdl():
    assert schema.SCHEMA_API_VERSION == "63.0"


def test_the_schema_loads_without_importing_simple_salesforce():
    """The local org's server validates deploys with this module and has no other use for
    simple-salesforce, whose import costs more CPU than reading its WSDL."""
    check = ("import sys; from metacheck import schema; schema.child_order('Flow'); "
             "assert 'simple_salesforce' not in sys.modules, 'imported'")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.corpus
# Without the corpus: one item, which the corpus marker skips with its reason.
@pytest.mark.parametrize("flow", CORPUS_FLOWS or [CORPUS], ids=lambda p: p.name)
def test_corpus_flow_has_no_errors(flow):
    findings = schema.validate(flow)
    assert not schema.has_errors(findings), findings
    version = etree.parse(str(flow)).findtext(f"{{{schema.MD_NS}}}apiVersion")
    newer = version is not None and float(version) > 63.0
    warned = [f for f in findings if f.rule == "newer-api-version"]
    assert len(warned) == (1 if newer else 0)
    if newer:
        assert "newer than the bundled schema (63.0)" in warned[0].message
    differences = [f for f in findings if f.rule != "newer-api-version"]
    if flow.name in NEWER_WITH_DIFFERENCES:
        assert version == "65.0"
        assert [f.severity for f in differences] == ["warning"]
        assert differences[0].element.endswith(NEWER_WITH_DIFFERENCES[flow.name])
    else:
        assert differences == []


@pytest.mark.corpus
def test_the_same_difference_is_an_error_at_api_63():
    path = CORPUS / "coral-cloud__Send_Verification_Code.flow-meta.xml"
    data = path.read_bytes().replace(b"<apiVersion>65.0<", b"<apiVersion>63.0<")
    findings = schema.validate(data, kind="flow")
    assert [(f.severity, f.rule) for f in findings] == [("error", "invalid-value")]
    assert "generateVerificationCode" in findings[0].message


@pytest.mark.parametrize("path", sorted(
    p for d in ("flows", "force-app", "unpackaged") for p in (ROOT / d).rglob("*-meta.xml")
    if p.name.endswith(schema.SOURCE_SUFFIXES)), ids=lambda p: p.name)
def test_project_metadata_is_valid(path):
    assert schema.validate(path) == []


def _mutate(path: Path, old: str, new: str, tmp_path: Path) -> tuple[Path, int]:
    """Write a copy of ``path`` with the first ``old`` replaced; return it and that line."""
    text = path.read_text()
    assert old in text, f"{path.name} no longer contains {old!r}"
    line = text[: text.index(old)].count("\n") + 1
    target = tmp_path / path.name
    target.write_text(text.replace(old, new, 1))
    return target, line


def _only_error(target: Path):
    findings = schema.validate(target)
    errors = [f for f in findings if f.severity == "error"]
    assert len(errors) == 1, findings
    return errors[0]


def test_operator_in_upper_case_is_rejected_with_a_suggestion(tmp_path):
    target, line = _mutate(PARTICIPANT_FLOW, "<operator>In</operator>",
                           "<operator>IN</operator>", tmp_path)
    error = _only_error(target)
    assert (error.file, error.line, error.rule) == (str(target), line, "invalid-value")
    assert "'IN' is not a valid FlowRecordFilterOperator" in error.message
    assert "did you mean 'In'?" in error.message
    assert re.fullmatch(r"Flow/recordLookups\(\w+\)/filters(\[\d+\])?/operator", error.element)


@pytest.mark.corpus
def test_decision_operator_in_upper_case(tmp_path):
    target, line = _mutate(SERVICE_DELIVERY, "<operator>EqualTo</operator>",
                           "<operator>IN</operator>", tmp_path)
    error = _only_error(target)
    assert error.line == line
    assert error.message == ("'IN' is not a valid FlowComparisonOperator for <operator>; "
                             "did you mean 'In'?")
    assert error.element == "Flow/decisions(myDecision)/rules(myRule_1)/conditions/operator"


@pytest.mark.corpus
def test_unknown_element_is_rejected(tmp_path):
    target, line = _mutate(SERVICE_DELIVERY, "<label>AutoName</label>",
                           "<label>AutoName</label>\n<conector/>", tmp_path)
    error = _only_error(target)
    assert (error.line, error.rule) == (line + 1, "unknown-element")
    assert error.element == "Flow/decisions(myDecision)/rules(myRule_1)/conector"
    assert "<conector> is not a valid element of FlowRule" in error.message
    assert "did you mean <connector>?" in error.message


@pytest.mark.corpus
def test_swapped_siblings_are_rejected_naming_the_order(tmp_path):
    target, line = _mutate(SERVICE_DELIVERY,
                           "<name>myDecision</name>\n        <label>myDecision</label>",
                           "<label>myDecision</label>\n        <name>myDecision</name>", tmp_path)
    error = _only_error(target)
    assert (error.line, error.rule) == (line + 1, "element-order")
    assert error.element == "Flow/decisions(myDecision)/name"
    assert f"must come before <label> (line {line})" in error.message


@pytest.mark.corpus
def test_order_and_case_errors_stay_errors_in_a_newer_flow(tmp_path):
    newer = CORPUS / "coral-cloud__Get_Sessions.flow-meta.xml"
    target, _ = _mutate(newer, "<operator>EqualTo</operator>", "<operator>equalto</operator>",
                        tmp_path)
    assert "did you mean 'EqualTo'?" in _only_error(target).message


@pytest.mark.corpus
def test_unknown_value_in_a_newer_flow_is_only_a_warning(tmp_path):
    newer = CORPUS / "coral-cloud__Get_Sessions.flow-meta.xml"
    target, line = _mutate(newer, "<operator>EqualTo</operator>",
                           "<operator>ArrivedInApi65</operator>", tmp_path)
    findings = schema.validate(target)
    assert not schema.has_errors(findings)
    assert [(f.severity, f.line) for f in findings if f.rule == "invalid-value"] == [
        ("warning", line)]


@pytest.mark.corpus
def test_bad_number_and_duplicate_element(tmp_path):
    target, line = _mutate(SERVICE_DELIVERY, "<locationX>50</locationX>",
                           "<locationX>fifty</locationX>", tmp_path)
    error = _only_error(target)
    assert (error.line, error.message) == (line, "'fifty' is not a valid whole number for "
                                                 "<locationX>")
    target, line = _mutate(SERVICE_DELIVERY, "<label>AutoName</label>",
                           "<label>AutoName</label><label>Again</label>", tmp_path)
    error = _only_error(target)
    assert error.rule == "duplicate-element" and "more than once" in error.message


@pytest.mark.corpus
def test_syntax_namespace_and_kind_errors():
    data = SERVICE_DELIVERY.read_bytes()
    broken = schema.validate(data.replace(b"</label>", b"</labl>", 1), filename="x.flow")
    assert [(f.rule, f.file) for f in broken] == [("xml-syntax", "x.flow")]
    assert broken[0].line and "labl" in broken[0].message
    no_ns = schema.validate(data.replace(b' xmlns="http://soap.sforce.com/2006/04/metadata"',
                                         b""))
    assert no_ns[0].rule == "root-element" and "xmlns=" in no_ns[0].message
    wrong_kind = schema.validate(data, kind="layout")
    assert "expected a <Layout> component but the root element is <Flow>" in \
        wrong_kind[0].message
    assert schema.validate(data, kind="Flow") == []


def test_metadata_api_format_object_with_nested_fields():
    obj = b"""<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="http://soap.sforce.com/2006/04/metadata">
    <fields><fullName>Size__c</fullName><label>Size</label><precision>3</precision>
        <scale>0</scale><type>Number</type></fields>
    <label>Thing</label>
</CustomObject>"""
    assert schema.validate(obj, kind="object") == []
    bad = schema.validate(obj.replace(b"<type>Number</type>", b"<type>Numbr</type>"))
    assert "did you mean 'Number' or 'AutoNumber'?" in bad[0].message and bad[0].line == 4
