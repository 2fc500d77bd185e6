"""Flow Builder's "Save As": copy a flow under a new API name and label."""

from pathlib import Path
from typing import Literal

from cumulusci.core.exceptions import CumulusCIFailure, TaskOptionsError
from cumulusci.core.tasks import BaseSalesforceTask
from cumulusci.salesforce_api.exceptions import MetadataApiError
from cumulusci.utils.options import CCIOptions, Field
from lxml import etree
from pydantic.v1 import validator

from metacheck import schema
from tasks.flow_metadata import MD_NS, canonical, deploy_flows, retrieve_flows, split_flow_name
from tasks.options import NamedOptions


class FlowCloneError(CumulusCIFailure):
    """The source flow is missing, or the target exists with other content."""


def set_flow_child(root: etree._Element, tag: str, text: str | None):
    """Set (or with text=None remove) a direct child of <Flow>, keeping XSD order."""
    for old in root.findall(f"{{{MD_NS}}}{tag}"):
        root.remove(old)
    if text is None:
        return
    order = schema.child_order("Flow")  # from the Metadata API XSD in simple_salesforce
    new = etree.Element(f"{{{MD_NS}}}{tag}")
    new.text = text
    position = order.index(tag)
    for index, child in enumerate(root):
        name = etree.QName(child).localname if isinstance(child.tag, str) else None
        if name in order and order.index(name) > position:
            root.insert(index, new)
            break
    else:
        root.append(new)


class CloneFlow(NamedOptions, BaseSalesforceTask):
    """Copy a flow under a new API name and label, as Flow Builder's "Save As" does.

    No stock CumulusCI task copies a flow. The source is read with the Metadata API
    (stock ``ApiRetrieveUnpackaged``): the Tooling API's Flow.Metadata is not readable
    for flows installed from a managed package, such as Calendly's template
    (https://developer.salesforce.com/docs/atlas.en-us.api_tooling.meta/api_tooling/tooling_api_objects_flow.htm:
    "You can describe information for a flow installed from a managed package but not
    its metadata"). ``source_file`` copies a local flow file instead.

    The copy gets the new label, interviewLabel and description, ``status`` (Draft
    unless told otherwise; activation is a separate step) and loses ``isTemplate`` (a
    copy is an ordinary flow); everything else is unchanged. The template is never
    written. The copy is deployed with the stock ``ApiDeploy`` (rollbackOnError).

    Idempotent: the target is retrieved first. Same content (status aside, unless the
    status option is given) means no deploy; other content is an error unless
    ``overwrite`` is True (which deploys a new version of the target).
    """

    class Options(CCIOptions):
        target: str = Field(..., description="API name of the new flow, e.g. Calendly_Sync.")
        label: str = Field(..., description="Label of the new flow.")
        source: str = Field(
            "Calendly__CreateEventTemplate",
            description="API name of the org flow to copy (namespace prefix included).",
        )
        source_file: Path = Field(
            None,
            description="Copy this local flow file (e.g. flows/CreateEventTemplate.flow-meta.xml)"
            " instead of reading source from the org.",
        )
        description: str = Field(None, description="Description (default: names the source).")
        interview_label: str = Field(
            None, description="Interview label (default: '<label> {!$Flow.CurrentDateTime}')."
        )
        status: Literal["Draft", "Active"] = Field(
            None, description="Status of the deployed copy (default Draft)."
        )
        overwrite: bool = Field(False, description="Replace a target that has other content.")
        dry_run: bool = Field(False, description="Report what would change; write nothing.")

        @validator("target", "source")
        def _flow_name(cls, value):
            split_flow_name(value)
            return value

        @validator("label")
        def _label(cls, value):
            if not value.strip() or len(value) > 255:
                raise ValueError("label must be 1 to 255 characters")
            return value

    parsed_options: Options

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        opts = self.parsed_options
        if "__" in opts.target:
            raise TaskOptionsError(
                f"target {opts.target!r} has a namespace prefix; the copy lives in the org's own "
                "namespace, give its name without a prefix."
            )
        if opts.source_file is None and opts.target == opts.source:
            raise TaskOptionsError("target must differ from source: the source is never changed.")
        self.source_file = opts.source_file
        if self.source_file is not None:
            if not self.source_file.is_absolute() and self.project_config.repo_root:
                self.source_file = Path(self.project_config.repo_root) / self.source_file
            if not self.source_file.is_file():
                raise TaskOptionsError(f"source_file {opts.source_file} does not exist.")
        self.api_version = self.project_config.project__package__api_version

    def _missing_source_message(self, source: str) -> str:
        """Why the source flow is missing: its package is absent, or installed without a flow of
        that name (then upgrading would not help: the name is what to check)."""
        namespace = split_flow_name(source)[0]
        installed = self.org_config.installed_packages.get(namespace, []) if namespace else []
        where = f"Source flow {source} was not found in org {self.org_config.name}"
        local_copy = ("or set source_file to copy the project's "
                      "flows/CreateEventTemplate.flow-meta.xml.")
        if installed:
            version = installed[0].number
            return (f"{where}, although the {namespace} package {version} is installed. Find "
                    f"the template's API name in Setup > Flows and pass it with "
                    f"-o calendly_clone_flow__source <name>, {local_copy}")
        if namespace:
            return (f"{where}: the {namespace} package is not installed. Install it (2.5+: "
                    f"`cci flow run dependencies`), {local_copy}")
        return f"{where}. Check the flow's API name (option source), {local_copy}"

    def _run_task(self):
        opts = self.parsed_options
        names = [opts.target] if self.source_file else [opts.source, opts.target]
        org_flows = retrieve_flows(self, names, self.api_version)
        source_xml = (
            self.source_file.read_bytes() if self.source_file else org_flows.get(opts.source)
        )
        source_name = str(opts.source_file) if opts.source_file else opts.source
        if source_xml is None:
            raise FlowCloneError(self._missing_source_message(opts.source))
        wanted = self._make_copy(source_xml)
        existing = org_flows.get(opts.target)
        # The same keys in a dry run and a real one, as the other writing tasks: action says
        # what a real run did (created, overwritten, unchanged), would_action what a dry run
        # would do (create, overwrite); the other one is None.
        self.return_values = {"target": opts.target, "source": source_name, "action": None,
                              "would_action": None, "dry_run": opts.dry_run}

        if existing is not None:
            ignore_status = opts.status is None
            if canonical(existing, ignore_status) == canonical(wanted, ignore_status):
                self.logger.info(
                    f"Flow {opts.target} already matches {source_name}; nothing to do."
                )
                self.return_values["action"] = "unchanged"
                return
            if not opts.overwrite:
                raise FlowCloneError(
                    f"Flow {opts.target} already exists in org {self.org_config.name} with other "
                    "content. Choose another target name, or set overwrite: True to deploy a new "
                    "version of it."
                )
        action = "overwrite" if existing is not None else "create"
        if opts.dry_run:
            self.logger.info(f"Dry run: would {action} flow {opts.target} from {source_name}.")
            self.return_values["would_action"] = action
            return
        self.logger.info(f"Deploying flow {opts.target} ({action}) copied from {source_name}.")
        try:
            deploy_flows(self, {opts.target: wanted}, self.api_version)
        except MetadataApiError as err:
            # The deploy runs with rollbackOnError: a failed deploy saves nothing.
            raise FlowCloneError(
                f"Deploying flow {opts.target} failed; nothing was saved, fix the cause and "
                f"re-run. Salesforce said: {err}"
            ) from err
        self.return_values["action"] = "overwritten" if existing is not None else "created"

    def _make_copy(self, source_xml: bytes) -> bytes:
        opts = self.parsed_options
        try:
            root = etree.fromstring(source_xml, etree.XMLParser(remove_comments=True))
        except etree.XMLSyntaxError as err:
            raise FlowCloneError(f"The source flow is not valid XML: {err}") from err
        if etree.QName(root).localname != "Flow" or etree.QName(root).namespace != MD_NS:
            raise FlowCloneError("The source is not a Flow metadata file (root must be <Flow>).")
        source = opts.source_file.name.split(".")[0] if opts.source_file else opts.source
        set_flow_child(root, "description", opts.description or f"Save As copy of {source}.")
        set_flow_child(
            root,
            "interviewLabel",
            opts.interview_label or f"{opts.label} {{!$Flow.CurrentDateTime}}",
        )
        set_flow_child(root, "isTemplate", None)
        set_flow_child(root, "label", opts.label)
        set_flow_child(root, "status", opts.status or "Draft")
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
