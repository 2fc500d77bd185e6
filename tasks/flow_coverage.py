"""Print the flow test coverage the org recorded for the last Apex test runs (Tooling API)."""

from cumulusci.core.exceptions import CumulusCIFailure, TaskOptionsError
from cumulusci.tasks.salesforce import BaseSalesforceApiTask
from cumulusci.utils.options import CCIOptions, Field
from simple_salesforce.exceptions import SalesforceError

from tasks.flow_activation import _salesforce_message


class FlowCoverageError(CumulusCIFailure):
    """The org refused the coverage queries, or a flow is below the required coverage."""


class FlowCoverage(BaseSalesforceApiTask):
    """Flow test coverage per flow version, from the Tooling API.

    ``FlowTestCoverage`` (one row per test method and flow version: NumElementsCovered,
    NumElementsNotCovered) gives each version's element count; ``FlowElementTestCoverage``
    (one row per element a method ran) gives the elements run by any method, so a version's
    coverage is the union over methods, not one method's share. Salesforce keeps these rows
    until the flow version changes. Tooling API reference: tooling_api_objects_flowtestcoverage
    and tooling_api_objects_flowelementtestcoverage (API 44.0 and later). No stock CumulusCI
    task reads flow coverage (``run_tests`` reports Apex code coverage only).
    """

    class Options(CCIOptions):
        flows: list = Field(
            None, description="Flow API names to report (default: every flow with coverage)."
        )
        required_percent: int = Field(
            0, description="Fail when a reported flow's coverage is below this percentage."
        )

    parsed_options: Options

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        percent = self.parsed_options.required_percent
        if not 0 <= percent <= 100:
            raise TaskOptionsError(f"required_percent must be 0 to 100, not {percent}.")

    def _run_task(self):
        try:
            rows = self._query(
                "SELECT FlowVersionId, TestMethodName, NumElementsCovered, NumElementsNotCovered "
                "FROM FlowTestCoverage"
            )
            elements = self._query("SELECT FlowVersionId, ElementName FROM FlowElementTestCoverage")
            ids = sorted({r["FlowVersionId"] for r in rows})
            versions = self._flow_versions(ids)
        except SalesforceError as err:
            raise FlowCoverageError(
                f"Could not read flow test coverage from org {self.org_config.name}: "
                f"{_salesforce_message(err)}"
            ) from err
        report = []
        for version_id in ids:
            name, number = versions.get(version_id, (version_id, None))
            if self.parsed_options.flows and name not in self.parsed_options.flows:
                continue
            mine = [r for r in rows if r["FlowVersionId"] == version_id]
            total = max(r["NumElementsCovered"] + r["NumElementsNotCovered"] for r in mine)
            covered = len({e["ElementName"] for e in elements if e["FlowVersionId"] == version_id})
            percent = round(100 * covered / total) if total else 100
            report.append({"flow": name, "version": number, "covered": covered,
                           "elements": total, "percent": percent,
                           "test_methods": len({r["TestMethodName"] for r in mine})})
        self.return_values = {"flows": report}
        if not report:
            self.logger.info("No flow test coverage recorded: run the Apex tests first.")
        for item in report:
            self.logger.info(
                f"{item['flow']} v{item['version']}: {item['covered']}/{item['elements']} "
                f"elements ({item['percent']}%) by {item['test_methods']} test method(s)"
            )
        low = [i for i in report if i["percent"] < self.parsed_options.required_percent]
        if low:
            raise FlowCoverageError(
                "Below the required flow coverage of "
                f"{self.parsed_options.required_percent}%: "
                + ", ".join(f"{i['flow']} ({i['percent']}%)" for i in low)
            )

    def _query(self, soql: str) -> list:
        return self.tooling.query_all(soql)["records"]

    def _flow_versions(self, ids: list) -> dict:
        """{flow version id: (flow API name, version number)}."""
        out = {}
        for start in range(0, len(ids), 100):
            chunk = ", ".join(f"'{i}'" for i in ids[start:start + 100])
            for row in self._query(
                "SELECT Id, Definition.DeveloperName, VersionNumber FROM Flow "
                f"WHERE Id IN ({chunk})"
            ):
                out[row["Id"]] = ((row.get("Definition") or {}).get("DeveloperName"),
                                  row["VersionNumber"])
        return out
