"""calendly_setup's validate mode: one check-only deploy of what the setup would deploy."""

import base64
import io
import zipfile
from pathlib import Path

from cumulusci.core.exceptions import CumulusCIException, CumulusCIFailure, TaskOptionsError
from cumulusci.core.sfdx import convert_sfdx_source
from cumulusci.core.utils import process_list_arg
from cumulusci.salesforce_api.metadata import ApiDeploy
from lxml import etree

from tasks.event_layout import AddAttendeesToEventLayouts
from tasks.flow_metadata import MD_NS, manifest

TEST_LEVELS = ("RunSpecifiedTests", "NoTestRun", "RunLocalTests")
FLOW_SUFFIX = ".flow-meta.xml"


class ValidationFailed(CumulusCIFailure):
    """The check-only deploy failed: component problems, test failures, or the org refused."""


class RecordingDeploy(ApiDeploy):
    """CumulusCI's ApiDeploy, keeping the final checkDeployStatus answer for the report (the
    stock class turns it into a status or an exception and drops the details)."""

    response_xml = None

    def _process_response_status(self, response):
        self.response_xml = response.content  # a deploy-level error ends the polling here
        return super()._process_response_status(response)

    def _process_response(self, response):
        self.response_xml = response.content
        return super()._process_response(response)


class ValidateSetup(AddAttendeesToEventLayouts):
    """Check-only deploy (``checkOnly=true``: the org compiles and checks everything, runs the
    tests, and keeps nothing) of the project's outcome fields and list views, its flows, the
    Event layouts as calendly_setup would patch them, and the generated Apex test class, run
    with ``RunSpecifiedTests``.

    Built on the layout task so the layouts are exactly what ``calendly_patch_event_layout``
    would deploy (retrieved and patched in memory). The stock ``deploy`` task has
    ``check_only`` and ``test_level`` but deploys one source folder, cannot include a layout
    patched from the org's own copy, and reports only pass or fail; this task reports every
    component, every test failure and the flow coverage the org returns. ``NoTestRun`` leaves
    the test class out (nothing would run it). The local org has no Apex runtime: there,
    ``RunSpecifiedTests`` fails with NOT_IMPLEMENTED and ``NoTestRun`` validates.
    """

    task_options = {
        **{k: v for k, v in AddAttendeesToEventLayouts.task_options.items() if k != "dry_run"},
        "flows_path": {"description": "The project's flows (default: flows)."},
        "objects_path": {"description": "Source-format objects/ folder of the outcome fields "
                                         "(default: calendly_deploy_sync_fields' path)."},
        "tests_path": {"description": "The generated test class's package (force-app-tests)."},
        "test_level": {"description": f"One of {', '.join(TEST_LEVELS)} (default: "
                                      "RunSpecifiedTests)."},
        "tests": {"description": "Test classes for RunSpecifiedTests (CalendlyScenariosTest)."},
    }

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        self.dry_run = False  # the patched layouts go into the check-only package
        self.test_level = self.options.get("test_level") or "RunSpecifiedTests"
        if self.test_level not in TEST_LEVELS:
            raise TaskOptionsError(f"test_level {self.test_level!r}: choose one of "
                                   f"{', '.join(TEST_LEVELS)}.")
        self.tests = process_list_arg(self.options.get("tests")) or ["CalendlyScenariosTest"]
        root = Path(self.project_config.repo_root or ".")
        self.flows_path = root / (self.options.get("flows_path") or "flows")
        objects = self.options.get("objects_path") or self.project_config.lookup(
            "tasks__calendly_deploy_sync_fields__options__path")
        self.objects_path = root / objects if objects else None
        self.tests_path = root / (self.options.get("tests_path") or "force-app-tests")

    def _run_task(self):
        with self._patched_layouts() as layouts:
            members = {"Layout": layouts, "Flow": self._add_flows(), **self._add_objects()}
            if self.test_level != "NoTestRun":
                members["ApexClass"] = self._add_classes()
            (self.deploy_dir / "package.xml").write_bytes(manifest(members, self.api_version))
            package_zip = _zip(self.deploy_dir)
        self.logger.info(
            f"Check-only deploy ({self.test_level}"
            + (f": {', '.join(self.tests)}" if self.test_level == "RunSpecifiedTests" else "")
            + f") of {_listing(members)}. Nothing is saved in the org."
        )
        api = RecordingDeploy(self, package_zip, api_version=self.api_version, check_only=True,
                              test_level=self.test_level, run_tests=self.tests)
        error = None
        try:
            api()
        except CumulusCIException as exc:
            error = exc
        report = _report(api.response_xml)
        report.update(check_only=True, test_level=self.test_level, layouts_patched=layouts,
                      already_patched=sorted(self.already_patched))
        self.return_values = report
        self._log(report)
        if error is not None or report["status"] != "Succeeded":
            reasons = ([report["error"]] if report["error"] else []) + report[
                "component_failures"] + report["test_failures"]
            raise ValidationFailed(
                f"Validation failed on org {self.org_config.name} ({report['status']}): "
                f"{'; '.join(r.rstrip('.') for r in reasons) or error}. Nothing was saved."
            )

    def _add_flows(self) -> list:
        names = []
        (self.deploy_dir / "flows").mkdir()
        for path in sorted(self.flows_path.glob(f"*{FLOW_SUFFIX}")):
            name = path.name[: -len(FLOW_SUFFIX)]
            (self.deploy_dir / "flows" / f"{name}.flow").write_bytes(path.read_bytes())
            names.append(name)
        if not names:
            raise TaskOptionsError(f"No *{FLOW_SUFFIX} in {self.flows_path}.")
        return names

    def _add_objects(self) -> dict:
        """The outcome fields and list views calendly_deploy_sync_fields deploys (the flows
        write those fields), converted from source format by sf as the stock deploy does."""
        if self.objects_path is None or not self.objects_path.is_dir():
            return {}
        members = {"CustomField": [], "ListView": []}
        with convert_sfdx_source(str(self.objects_path), None, self.logger) as converted:
            for path in sorted(Path(converted, "objects").glob("*.object")):
                target = self.deploy_dir / "objects"
                target.mkdir(exist_ok=True)
                (target / path.name).write_bytes(path.read_bytes())
                root = etree.parse(str(path)).getroot()
                for kind, tag in (("CustomField", "fields"), ("ListView", "listViews")):
                    members[kind] += [f"{path.stem}.{el.findtext(f'{{{MD_NS}}}fullName')}"
                                      for el in root.findall(f"{{{MD_NS}}}{tag}")]
        return members

    def _add_classes(self) -> list:
        (self.deploy_dir / "classes").mkdir()
        found = {p.name[: -len(".cls")]: p for p in self.tests_path.rglob("*.cls")}
        missing = [t for t in self.tests if t not in found]
        if missing:
            raise TaskOptionsError(
                f"Test class(es) {', '.join(missing)} not found under {self.tests_path}; "
                "run `python -m tools.apexgen`."
            )
        for name in self.tests:
            for suffix in (".cls", ".cls-meta.xml"):
                source = found[name].with_name(name + suffix)
                (self.deploy_dir / "classes" / source.name).write_bytes(source.read_bytes())
        return list(self.tests)

    def _log(self, report: dict):
        for item in report["components"]:
            self.logger.info(f"  ok      {item}")
        for item in report["component_failures"]:
            self.logger.error(f"  FAILED  {item}")
        if report["tests_run"] or report["test_failures"]:
            self.logger.info(f"Apex tests run: {report['tests_run']}, failures: "
                             f"{len(report['test_failures'])}")
        for item in report["test_failures"]:
            self.logger.error(f"  TEST FAILED  {item}")
        for item in report["flow_coverage"]:
            self.logger.info(f"  flow coverage  {item['flow']}: {item['covered']}/"
                             f"{item['elements']} elements")


def _zip(folder: Path) -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            archive.write(path, path.relative_to(folder).as_posix())
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _listing(members: dict) -> str:
    return "; ".join(f"{kind} {', '.join(names)}" for kind, names in sorted(members.items())
                     if names) or "nothing"


def _report(response_xml) -> dict:
    """Status, components, test results and flow coverage of a DeployResult (meta_deployresult)."""
    report = {"status": None, "error": None, "components": [], "component_failures": [],
              "tests_run": 0, "test_failures": [], "flow_coverage": []}
    if not response_xml:
        return report
    result = etree.fromstring(response_xml).find(f".//{{{MD_NS}}}result")
    if result is None:
        return report

    def text(el, name):
        return el.findtext(f"{{{MD_NS}}}{name}")

    report["status"] = text(result, "status")
    if text(result, "errorMessage"):
        report["error"] = f"{text(result, 'errorStatusCode')}: {text(result, 'errorMessage')}"
    for item in result.iter(f"{{{MD_NS}}}componentSuccesses"):
        if text(item, "fullName") != "package.xml":
            report["components"].append(f"{text(item, 'componentType')} {text(item, 'fullName')}")
    for item in result.iter(f"{{{MD_NS}}}componentFailures"):
        report["component_failures"].append(
            f"{text(item, 'componentType')} {text(item, 'fullName')}: "
            f"{text(item, 'problemType')}: {text(item, 'problem')}")
    tests = result.find(f".//{{{MD_NS}}}runTestResult")
    if tests is not None:
        report["tests_run"] = int(text(tests, "numTestsRun") or 0)
        for failure in tests.iter(f"{{{MD_NS}}}failures"):
            report["test_failures"].append(
                f"{text(failure, 'name')}.{text(failure, 'methodName')}: "
                f"{text(failure, 'message')}")
        for flow in tests.iter(f"{{{MD_NS}}}flowCoverage"):
            total = int(text(flow, "numElements") or 0)
            report["flow_coverage"].append({
                "flow": text(flow, "flowName"), "elements": total,
                "covered": total - int(text(flow, "numElementsNotCovered") or 0)})
    return report
