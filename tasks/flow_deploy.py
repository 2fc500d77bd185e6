"""Deploy the project's flows, only those that differ from the org's latest version."""

from pathlib import Path

from cumulusci.core.exceptions import CumulusCIFailure, TaskOptionsError
from cumulusci.core.tasks import BaseSalesforceTask
from cumulusci.salesforce_api.exceptions import MetadataApiError
from cumulusci.utils.options import CCIOptions, Field
from lxml import etree

from tasks.field_mapping import apply_mapping
from tasks.flow_metadata import MD_NS, canonical, deploy_flows, retrieve_flows
from tasks.options import NamedOptions

SUFFIXES = (".flow-meta.xml", ".flow")


class FlowDeployError(CumulusCIFailure):
    """A flow file is unreadable, or the org refused the deploy."""


class DeployChangedFlows(NamedOptions, BaseSalesforceTask):
    """Deploy the flows in ``path`` whose content differs from the org's latest version.

    The stock ``deploy`` task (``path: flows``) deploys every flow on every run, and each
    Metadata API deploy of a flow creates a new flow version in the target (since API
    44.0; see https://docs.gearset.com/en/articles/2439855-changes-to-flows-in-v44-of-the-metadata-api),
    so re-running a setup flow would pile up versions (Salesforce keeps at most 50 per
    flow). This task retrieves
    the org's copies first (stock ``ApiRetrieveUnpackaged``), compares them ignoring
    whitespace, comments and ``status`` (activation is a separate step), and deploys only
    the flows that are new or changed, in one all-or-nothing deploy (stock ``ApiDeploy``).

    The guest and co-host field names are mapped first (``project.custom.calendly_fields``,
    through CumulusCI's ``find_replace`` transform; see ``tasks.field_mapping``), so the
    comparison and the deploy both use the org's names.

    A Flow is a single-file metadata type, so a source-format ``.flow-meta.xml`` holds
    the same XML as the Metadata API's ``flows/<Name>.flow``: no conversion is needed.
    """

    class Options(CCIOptions):
        path: Path = Field(
            Path("flows"), description="Folder of flow files (<Name>.flow-meta.xml)."
        )
        dry_run: bool = Field(False, description="Report what would change; write nothing.")

    parsed_options: Options

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        self.api_version = self.project_config.project__package__api_version
        path = self.parsed_options.path
        if not path.is_absolute() and self.project_config.repo_root:
            path = Path(self.project_config.repo_root) / path
        if not path.is_dir():
            raise TaskOptionsError(
                f"path {self.parsed_options.path} is not a folder: give the folder of the "
                "*.flow-meta.xml files (default: flows)."
            )
        self.local = self._read_flows(path)
        if not self.local:
            raise TaskOptionsError(
                f"No flow files (*.flow-meta.xml) in {path}: point the path option at the "
                "folder that holds them."
            )

    @staticmethod
    def _read_flows(path: Path) -> dict:
        flows = {}
        for file in sorted(path.iterdir()):
            suffix = next((s for s in SUFFIXES if file.name.endswith(s)), None)
            if suffix is None:
                continue
            data = file.read_bytes()
            try:
                root = etree.fromstring(data)
            except etree.XMLSyntaxError as err:
                raise FlowDeployError(f"{file} is not valid XML: {err}") from err
            if root.tag != f"{{{MD_NS}}}Flow":
                raise FlowDeployError(f"{file} is not a Flow metadata file (root must be <Flow>).")
            flows[file.name[: -len(suffix)]] = data
        return flows

    def _run_task(self):
        self.local = apply_mapping(self, self.local)
        org = retrieve_flows(self, list(self.local), self.api_version)
        changed = {
            name: xml
            for name, xml in self.local.items()
            if name not in org or canonical(org[name], True) != canonical(xml, True)
        }
        unchanged = sorted(set(self.local) - set(changed))
        dry_run = self.parsed_options.dry_run
        # The same keys in a dry run and a real one (would_deploy empty in a real run).
        self.return_values = {"deployed": [], "unchanged": unchanged, "would_deploy": [],
                              "dry_run": dry_run}
        if not changed:
            self.logger.info(f"All {len(unchanged)} flows match the org; nothing to deploy.")
            return
        names = ", ".join(sorted(changed))
        if dry_run:
            self.logger.info(f"Dry run: would deploy {names}. Nothing written.")
            self.return_values["would_deploy"] = sorted(changed)
            return
        self.logger.info(f"Deploying new or changed flows: {names}")
        try:
            deploy_flows(self, changed, self.api_version)
        except MetadataApiError as err:
            raise FlowDeployError(
                f"Deploying {names} failed; nothing was saved (rollbackOnError). Fix the cause "
                f"and re-run. Salesforce said: {err}"
            ) from err
        self.return_values["deployed"] = sorted(changed)
