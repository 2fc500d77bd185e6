"""calendly_flow_coverage: flow coverage per version from the Tooling API, union over methods."""

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from cumulusci.core.exceptions import TaskOptionsError

from tasks.flow_coverage import FlowCoverage, FlowCoverageError
from tests.fixtures.tasks.task_fake_org import INSTANCE_URL, make_task, sf_error

BASE = f"{INSTANCE_URL}/services/data/v63.0"
V1, V2 = "301000000000001AAA", "301000000000002AAA"
TABLES = {
    "FlowTestCoverage": [
        {"FlowVersionId": V1, "TestMethodName": "a", "NumElementsCovered": 3,
         "NumElementsNotCovered": 7},
        {"FlowVersionId": V1, "TestMethodName": "b", "NumElementsCovered": 4,
         "NumElementsNotCovered": 6},
        {"FlowVersionId": V2, "TestMethodName": "a", "NumElementsCovered": 2,
         "NumElementsNotCovered": 2},
    ],
    # method a ran s1-s3, b ran s2-s5: five distinct elements of ten
    "FlowElementTestCoverage": [{"FlowVersionId": V1, "ElementName": f"s{n}"}
                                for n in (1, 2, 3, 2, 3, 4, 5)]
    + [{"FlowVersionId": V2, "ElementName": n} for n in ("x", "y")],
    "Flow": [{"Id": V1, "Definition": {"DeveloperName": "CreateEventTemplate"},
              "VersionNumber": 3},
             {"Id": V2, "Definition": {"DeveloperName": "Create_Event_Template"},
              "VersionNumber": 1}],
}


@pytest.fixture
def org():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add("GET", f"{INSTANCE_URL}/services/data",
                 json=[{"label": "x", "url": "/services/data/v63.0", "version": "63.0"}])
        seen = []

        def query(request):
            soql = parse_qs(urlparse(request.url).query)["q"][0]
            seen.append(soql)
            table = re.search(r"FROM (\w+)", soql).group(1)
            if table not in TABLES:
                return sf_error(400, "INVALID_TYPE", f"sObject type '{table}' is not supported.")
            rows = [{"attributes": {"type": table}, **r} for r in TABLES[table]]
            body = {"totalSize": len(rows), "done": True, "records": rows}
            return 200, {}, json.dumps(body)

        rsps.add_callback("GET", re.compile(rf"{re.escape(BASE)}/tooling/query/?.*"), query)
        rsps.seen = seen
        yield rsps


def test_coverage_is_the_union_of_elements_over_methods(org):
    task = make_task(FlowCoverage)
    task()
    assert task.return_values["flows"] == [
        {"flow": "CreateEventTemplate", "version": 3, "covered": 5, "elements": 10,
         "percent": 50, "test_methods": 2},
        {"flow": "Create_Event_Template", "version": 1, "covered": 2, "elements": 4,
         "percent": 50, "test_methods": 1},
    ]
    assert f"WHERE Id IN ('{V1}', '{V2}')" in org.seen[-1]


def test_below_required_percent_fails_naming_the_flow(org):
    task = make_task(FlowCoverage, {"flows": ["CreateEventTemplate"], "required_percent": 75})
    with pytest.raises(FlowCoverageError, match=r"75%: CreateEventTemplate \(50%\)"):
        task()


def test_an_org_without_the_object_says_so(org):
    saved = TABLES.pop("FlowElementTestCoverage")
    try:
        with pytest.raises(FlowCoverageError, match="INVALID_TYPE"):
            make_task(FlowCoverage)()
    finally:
        TABLES["FlowElementTestCoverage"] = saved


@pytest.mark.parametrize("percent", [-1, 101])
def test_required_percent_out_of_range_is_named(percent):
    with pytest.raises(TaskOptionsError, match=f"required_percent must be 0 to 100, not {percent}"):
        make_task(FlowCoverage, {"required_percent": percent})
