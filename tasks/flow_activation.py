"""Activate (or deactivate) one flow, strictly, and verify the org took the change."""

from pathlib import Path

from cumulusci.core.exceptions import CumulusCIFailure, TaskOptionsError
from cumulusci.tasks.salesforce import BaseSalesforceApiTask
from cumulusci.utils.options import CCIOptions, Field
from simple_salesforce.exceptions import SalesforceError

from tasks.flow_metadata import split_flow_name
from tasks.options import NamedOptions


class FlowActivationError(CumulusCIFailure):
    """The flow is missing, or the org refused or did not apply the activation."""


class ActivateFlow(NamedOptions, BaseSalesforceApiTask):
    """Activate the latest (or a given) version of one flow, or deactivate it.

    Stock ``activate_flow`` is not enough here: it only warns when a flow name does
    not exist, reads its ``status`` option as truthy text (so "False" activates),
    ignores namespaces, and never checks that the org applied the change.

    Activation goes through the Tooling API, the documented way to switch versions:
    PATCH ``tooling/sobjects/FlowDefinition/<Id>`` with
    ``{"Metadata": {"activeVersionNumber": N}}`` (0 deactivates). See
    https://developer.salesforce.com/docs/atlas.en-us.api_tooling.meta/api_tooling/tooling_api_objects_flowdefinition.htm
    and https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_flowdefinition.htm
    ("To deactivate an active flow version, set the activeVersionNumber to 0").

    After the PATCH the definition is read again. If the org refused the change, or
    the re-read shows a different active version, the previously active version is
    put back and the task fails: the org ends as it started.
    """

    class Options(CCIOptions):
        developer_name: str = Field(
            ...,
            description="Flow API name, e.g. CreateEventTemplate or Calendly__CreateEventTemplate.",
        )
        namespace: str = Field(
            None,
            description="Namespace prefix for a developer_name without one "
            "(default: the project's package namespace; none = the org's own flows).",
        )
        active: bool = Field(True, description="True activates; False deactivates.")
        version: int = Field(
            None, description="Version number to activate (default: the latest version)."
        )
        dry_run: bool = Field(False, description="Report what would change; write nothing.")
        missing_ok: bool = Field(
            False,
            description="True: a flow the org does not have is nothing to do (for "
            "deactivating in calendly_uninstall, run again after the flow is gone).",
        )

    parsed_options: Options

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        opts = self.parsed_options
        if opts.version is not None and opts.version < 1:
            raise TaskOptionsError(f"version must be 1 or more, not {opts.version}.")
        if opts.version is not None and not opts.active:
            raise TaskOptionsError("version cannot be combined with active: False.")
        namespace = opts.namespace or self.project_config.project__package__namespace
        try:
            self.namespace, self.name = split_flow_name(opts.developer_name, namespace)
        except ValueError as err:
            raise TaskOptionsError(f"developer_name {err}.") from err
        self.api_name = f"{self.namespace}__{self.name}" if self.namespace else self.name

    def _run_task(self):
        try:
            records = self._query_definition()["records"]
            if not records and self.parsed_options.missing_ok:
                return self._nothing_to_do_when_missing()
            if not records and self.parsed_options.dry_run and (step := self._earlier_step()):
                return self._dry_run_before_deploy(step)
            definition = self._read_definition(records)
        except SalesforceError as err:
            raise FlowActivationError(
                f"Could not read flow {self.api_name} from org {self.org_config.name}: "
                f"{_salesforce_message(err)} Nothing was changed; fix the cause (for example "
                "a user without Manage Flow) and re-run."
            ) from err
        before = self._active_number(definition)
        target = self._target_number(definition)
        self.return_values = self._values(before)
        if before == target:
            state = f"version {target} is active" if target else "it is inactive"
            self.logger.info(f"Flow {self.api_name}: nothing to do, {state}.")
            return
        change = f"version {target} active" if target else "inactive"
        if self.parsed_options.dry_run:
            self.logger.info(
                f"Dry run: would make flow {self.api_name} {change} "
                f"(now: {self._describe(before)}). Nothing written."
            )
            self.return_values["would_change_to"] = target
            return
        self.logger.info(f"Making flow {self.api_name} {change} (was: {self._describe(before)}).")
        self._set_active(definition, target, before)
        self.return_values.update(active_version=target, changed=True)

    def _values(self, before: int, would_change_to=None) -> dict:
        """The return values (the same keys in every case, dry run or not)."""
        return {
            "developer_name": self.api_name,
            "previous_version": before,
            "active_version": before,
            "changed": False,
            "would_change_to": would_change_to,
            "dry_run": self.parsed_options.dry_run,
        }

    def _nothing_to_do_when_missing(self):
        self.return_values = self._values(0)
        self.logger.info(
            f"Flow {self.api_name} is not in org {self.org_config.name}; nothing to do."
        )

    def _dry_run_before_deploy(self, step: str):
        """A dry run on an org that lacks the flow (a first install): fine when an earlier
        setup step would deploy it, as version 1; an error otherwise."""
        self.return_values = self._values(0, would_change_to=1)
        self.logger.info(
            f"Dry run: flow {self.api_name} is not in org {self.org_config.name} yet; "
            f"{step} as version 1, and this step would make version 1 active. Nothing written."
        )

    def _earlier_step(self) -> str | None:
        """What deploys this flow before its activation in a setup flow, or None: the
        project's source file (the folder calendly_deploy_flows deploys), or the "Save As"
        copy calendly_clone_flow makes (its target option in cumulusci.yml). Flows with a
        namespace come from neither."""
        if self.namespace:
            return None
        lookup = self.project_config.lookup
        root = Path(self.project_config.repo_root or ".")
        folder = lookup("tasks__calendly_deploy_flows__options__path") or "flows"
        path = root / folder / f"{self.name}.flow-meta.xml"
        if path.is_file():
            return f"calendly_deploy_flows would deploy it from {path.relative_to(root)}"
        if self.name == lookup("tasks__calendly_clone_flow__options__target"):
            source = lookup("tasks__calendly_clone_flow__options__source")
            return f"calendly_clone_flow would create it as a copy of {source}"
        return None

    def _query_definition(self) -> dict:
        ns_clause = f"= '{self.namespace}'" if self.namespace else "= null"
        return self.tooling.query(
            "SELECT Id, DeveloperName, NamespacePrefix, ActiveVersionId, LatestVersionId, "
            "ActiveVersion.VersionNumber, LatestVersion.VersionNumber FROM FlowDefinition "
            f"WHERE DeveloperName = '{self.name}' AND NamespacePrefix {ns_clause}"
        )

    def _read_definition(self, records=None) -> dict:
        if records is None:
            records = self._query_definition()["records"]
        if not records:
            raise FlowActivationError(
                f"Flow {self.api_name} does not exist in org {self.org_config.name}. "
                "Check the developer_name (and namespace), or deploy the flow first "
                "(`cci task run calendly_deploy_flows`)."
            )
        return records[0]

    @staticmethod
    def _active_number(definition: dict) -> int:
        active = definition.get("ActiveVersion")
        return active["VersionNumber"] if active else 0

    def _target_number(self, definition: dict) -> int:
        if not self.parsed_options.active:
            return 0
        latest = (definition.get("LatestVersion") or {}).get("VersionNumber")
        if latest is None:
            raise FlowActivationError(f"Flow {self.api_name} has no version to activate.")
        wanted = self.parsed_options.version or latest
        if wanted > latest:
            raise FlowActivationError(
                f"Flow {self.api_name} has no version {wanted}; its latest version is "
                f"{latest}. Omit the version option to activate the latest one."
            )
        return wanted

    @staticmethod
    def _describe(number: int) -> str:
        return f"version {number} active" if number else "inactive"

    def _patch(self, definition_id: str, number: int):
        flow_definition = self._get_tooling_object("FlowDefinition")
        flow_definition.update(definition_id, {"Metadata": {"activeVersionNumber": number}})

    def _set_active(self, definition: dict, target: int, before: int):
        try:
            self._patch(definition["Id"], target)
            now = self._active_number(self._read_definition())
        except SalesforceError as err:
            # A 4xx means nothing changed; a 5xx (on the PATCH or on the check after it)
            # may have left the change applied: check and restore.
            state = self._restore_if_changed(definition["Id"], before)
            raise FlowActivationError(
                f"The org refused to make flow {self.api_name} {self._describe(target)}: "
                f"{_salesforce_message(err)} {state}"
            ) from err
        if now != target:
            state = self._restore_if_changed(definition["Id"], before)
            raise FlowActivationError(
                f"Flow {self.api_name} should be {self._describe(target)} but the org reports "
                f"{self._describe(now)}. {state} Check the flow in Setup > Flows (it may have "
                "errors that block activation)."
            )
        self.logger.info(f"Verified: flow {self.api_name} is {self._describe(target)}.")

    def _restore_if_changed(self, definition_id: str, before: int) -> str:
        """Put the previous active version back if needed; say what state the flow is in."""
        try:
            now = self._active_number(self._read_definition())
            if now == before:
                return f"The flow is still {self._describe(before)}."
            self.logger.warning(f"Restoring flow {self.api_name} to {self._describe(before)}.")
            self._patch(definition_id, before)
            return f"Restored: the flow is {self._describe(before)} again."
        except SalesforceError as err:
            return (
                f"Could not confirm or restore its state ({_salesforce_message(err)}); it was "
                f"{self._describe(before)}. Re-run this task: it is safe to repeat."
            )


def _salesforce_message(err: SalesforceError) -> str:
    """The errorCode: message pairs of a Salesforce REST error body."""
    content = err.content
    if isinstance(content, list):
        return " ".join(
            f"{item.get('errorCode', 'ERROR')}: {item.get('message', '')}"
            for item in content
            if isinstance(item, dict)
        )
    return f"HTTP {err.status}: {content}"
