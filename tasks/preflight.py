"""Read-only check of an org before the setup changes anything in it."""

import difflib
import json
from pathlib import Path

from cumulusci.core.config import TaskConfig
from cumulusci.core.exceptions import CumulusCIFailure, TaskOptionsError
from cumulusci.core.utils import process_list_arg
from cumulusci.salesforce_api.metadata import ApiListMetadata
from cumulusci.tasks.salesforce import BaseSalesforceApiTask
from cumulusci.utils.options import CCIOptions, Field
from lxml import etree
from simple_salesforce.exceptions import SalesforceError, SalesforceResourceNotFound

from tasks.field_mapping import SETTING, SOURCE_NAMES, apply_mapping, field_mapping
from tasks.flow_activation import _salesforce_message
from tasks.flow_references import read_flow_folder, read_flows
from tasks.options import NamedOptions
from tasks.package_version import CheckPackageVersion, PackageVersionError

OK, WARNING, BLOCKER = "ok", "warning", "blocker"
SHARED_ACTIVITIES_FIELDS = {("EventRelation", "IsParent"), ("EventRelation", "IsWhat")}
RECORD_TRIGGERS = ("RecordAfterSave", "RecordBeforeSave", "RecordBeforeDelete")
SHARED_ACTIVITIES_ACTION = (
    "Setup > Activity Settings > select 'Allow Users to Relate Multiple Contacts to Tasks "
    "and Events' > Submit. Salesforce cannot turn it off again once it is on."
)


class PreflightError(CumulusCIFailure):
    """The org has one or more blockers; nothing was changed."""


class Preflight(NamedOptions, BaseSalesforceApiTask):
    """Check, without writing anything, that an org can take the setup.

    One table of checks, each ``ok``, ``warning`` or ``blocker`` with what to do:
    - the Calendly package version (the project's ``calendly_check_package_version``);
    - every object and field the project's flows reference exists (read from the flow
      XML after the field mapping of ``project.custom.calendly_fields``), with the
      object's closest field names for a missing one; fields this project deploys itself
      (``force-app``'s objects) count as present;
    - Shared Activities (``EventRelation.IsParent`` in the describe);
    - other active record-triggered flows on the booking object (``FlowDefinitionView``);
    - the Event layouts the layout patch targets.
    Blockers fail the task with a ``PreflightError`` naming each; warnings do not. The
    table is in ``return_values`` and, with ``json_output``, in a JSON file for CI.

    It is read-only, so it needs no dry run: running it is the dry run. No stock task
    checks an org's schema against a project's flows before a deploy.
    """

    class Options(CCIOptions):
        path: Path = Field(Path("flows"), description="Folder of the flow files to check.")
        objects_path: Path = Field(
            Path("force-app/main/default/objects"),
            description="Folder of the objects and fields this project deploys itself.",
        )
        namespace: str = Field("Calendly", description="Namespace of the Calendly package.")
        min_version: str = Field("2.5", description="Oldest acceptable package version.")
        layouts: str = Field(
            "Event-Event Layout", description="Comma-separated Event layouts to patch."
        )
        all_layouts: bool = Field(False, description="True: the patch targets every layout.")
        ignore_flows: str = Field(
            None,
            description="Comma-separated flow API names that may be active on the booking "
            "object besides the project's own (default: the Save As copy's target).",
        )
        json_output: Path = Field(None, description="Also write the table to this JSON file.")

    parsed_options: Options

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        opts = self.parsed_options
        root = Path(self.project_config.repo_root or ".")
        self.flow_dir = opts.path if opts.path.is_absolute() else root / opts.path
        if not self.flow_dir.is_dir() or not read_flow_folder(self.flow_dir):
            raise TaskOptionsError(
                f"path {opts.path} holds no *.flow-meta.xml files: give the folder of the "
                "project's flows (default: flows)."
            )
        objects = opts.objects_path
        self.objects_dir = objects if objects.is_absolute() else root / objects
        self.layouts = process_list_arg(opts.layouts) or []
        if not self.layouts and not opts.all_layouts:
            raise TaskOptionsError("Give layouts (e.g. 'Event-Event Layout') or all_layouts.")
        self.mapping = field_mapping(self.project_config)

    def _run_task(self):
        self.rows = []
        flows = apply_mapping(self, read_flow_folder(self.flow_dir))
        self._check_package()
        describes = self._check_fields(flows)
        self._check_shared_activities(describes)
        self._check_other_flows(flows)
        self._check_layouts()
        blockers = [row for row in self.rows if row["state"] == BLOCKER]
        warnings = [row for row in self.rows if row["state"] == WARNING]
        self.return_values = {
            "ok": not blockers,
            "blockers": len(blockers),
            "warnings": len(warnings),
            "checks": self.rows,
        }
        self._print_table()
        if self.parsed_options.json_output:
            self.parsed_options.json_output.write_text(json.dumps(self.return_values, indent=2))
        if blockers:
            raise PreflightError(
                f"Org {self.org_config.name} is not ready; nothing was changed. "
                + " ".join(f"[{row['check']}] {row['detail']} Fix: {row['action']}"
                           for row in blockers)
            )
        self.logger.info(
            f"Preflight passed for org {self.org_config.name}"
            + (f" with {len(warnings)} warning(s)." if warnings else ".")
        )

    def _add(self, check, state, detail, action=""):
        self.rows.append({"check": check, "state": state, "detail": detail, "action": action})

    def _check_package(self):
        opts = self.parsed_options
        config = TaskConfig(
            {"options": {"namespace": opts.namespace, "min_version": opts.min_version}}
        )
        check = CheckPackageVersion(
            self.project_config, config, self.org_config, logger=self.logger
        )
        try:
            check()
        except PackageVersionError as err:
            self._add("Calendly package", BLOCKER, str(err), "Install or upgrade the package.")
            return
        found = check.return_values["installed_version"]
        self._add("Calendly package", OK, f"{opts.namespace} {found} is installed.")

    def _describe(self, sobject):
        try:
            return self.sf.restful(f"sobjects/{sobject}/describe")
        except SalesforceResourceNotFound:
            return None

    def _project_fields(self) -> set:
        """(object, field) pairs this project deploys from objects_path."""
        found = set()
        if self.objects_dir.is_dir():
            for file in self.objects_dir.glob("*/fields/*.field-meta.xml"):
                found.add((file.parent.parent.name, file.name[: -len(".field-meta.xml")]))
        return found

    def _check_fields(self, flows) -> dict:
        refs = read_flows(flows)
        ours = {(o.lower(), f.lower()) for o, f in self._project_fields()}
        describes = {}
        for sobject in refs.objects:
            describe = describes[sobject] = self._describe(sobject)
            if describe is None:
                self._add(
                    f"Object {sobject}", BLOCKER,
                    f"{sobject} does not exist in the org or this user cannot see it.",
                    _object_action(sobject, self.parsed_options.namespace),
                )
                continue
            names = {f["name"].lower(): f["name"] for f in describe["fields"]}
            relationships = {
                (f.get("relationshipName") or "").lower() for f in describe["fields"]
            }
            missing, deferred = [], []
            for name, where in sorted(refs.fields.get(sobject, {}).items()):
                key = (sobject.lower(), name.lower())
                if name.lower() in names or key in ours:
                    continue
                if (sobject, name) in SHARED_ACTIVITIES_FIELDS:
                    deferred.append(name)  # reported by the Shared Activities check
                    continue
                missing.append(self._missing(sobject, name, where, names.values()))
            for name, where in sorted(refs.relationships.get(sobject, {}).items()):
                if name.lower() not in relationships:
                    missing.append(f"relationship {name} (used by {', '.join(where)})")
            if missing:
                self._add(
                    f"Fields of {sobject}", BLOCKER, "Missing: " + "; ".join(missing) + ".",
                    self._field_action(sobject),
                )
            elif deferred:
                count = len(refs.fields.get(sobject, {})) - len(deferred)
                self._add(f"Fields of {sobject}", OK, f"The {count} other referenced fields "
                          f"exist; {', '.join(deferred)}: see Shared Activities.")
            else:
                count = len(refs.fields.get(sobject, {}))
                self._add(f"Fields of {sobject}", OK, f"All {count} referenced fields exist.")
        return describes

    def _missing(self, sobject, name, where, org_names) -> str:
        close = difflib.get_close_matches(name, list(org_names), n=3, cutoff=0.6)
        text = f"{sobject}.{name} (used by {', '.join(where)})"
        logical = [key for key, value in self.mapping.items() if value == name]
        if logical:
            text += f", mapped by {SETTING}.{logical[0]}"
        if close:
            text += f"; close names in the org: {', '.join(close)}"
        return text

    def _field_action(self, sobject) -> str:
        keys = ", ".join(SOURCE_NAMES)
        return (
            f"If the package names a field differently, map it in cumulusci.yml under "
            f"{SETTING} ({keys}) to the name Setup > Object Manager > {sobject} > Fields "
            "shows; otherwise upgrade the Calendly package."
        )

    def _check_shared_activities(self, describes):
        describe = describes.get("EventRelation") or self._describe("EventRelation")
        fields = {f["name"] for f in (describe or {}).get("fields", [])}
        if "IsParent" in fields:
            self._add("Shared Activities", OK, "On (EventRelation has IsParent).")
            return
        self._add(
            "Shared Activities", BLOCKER,
            "Off: EventRelation has no IsParent field, so guests cannot be related to the "
            "Event as Contacts on their activity timeline.",
            SHARED_ACTIVITIES_ACTION,
        )

    def _own_flows(self, flows) -> set:
        names = set(flows)
        configured = self.parsed_options.ignore_flows
        if configured is None:
            clone = self.project_config.tasks__calendly_clone_flow or {}
            configured = (clone.get("options") or {}).get("target") or ""
        names.update(process_list_arg(configured) or [])
        return {name.lower() for name in names}

    def _check_other_flows(self, flows):
        trigger_objects = sorted(
            {
                start.text
                for xml in flows.values()
                for start in etree.fromstring(xml).iterfind(
                    "{*}start/{*}object"
                )
                if start.text
            }
        )
        own = self._own_flows(flows)
        for sobject in trigger_objects:
            soql = (
                "SELECT ApiName, Label, NamespacePrefix, TriggerType, RecordTriggerType "
                "FROM FlowDefinitionView WHERE IsActive = true AND "
                f"TriggerObjectOrEvent.QualifiedApiName = '{sobject}' AND TriggerType IN "
                f"({', '.join(repr(t) for t in RECORD_TRIGGERS)})"
            )
            check = f"Other flows on {sobject}"
            try:
                records = self.sf.query_all(soql)["records"]
            except SalesforceError as err:
                self._add(
                    check, WARNING, f"Could not list the org's flows: {_salesforce_message(err)}",
                    "Check Setup > Flows by hand for active flows on this object.",
                )
                continue
            others = []
            for record in records:
                name = record["ApiName"]
                if record.get("NamespacePrefix") and "__" not in name:
                    name = f"{record['NamespacePrefix']}__{name}"
                if name.lower() not in own:
                    others.append(f"{name} ({record.get('Label')}, {record.get('TriggerType')})")
            if not others:
                self._add(check, OK, "No other active record-triggered flow.")
                continue
            self._add(
                check, WARNING,
                f"Active: {', '.join(sorted(others))}. Each runs on every booking too: "
                "two flows that create Events make duplicate Events, and one that changes "
                "the booking can make this project's flows miss it.",
                "Deactivate the ones that create Events, e.g. `cci task run "
                "calendly_activate_flow -o developer_name <name> -o active False`.",
            )

    def _check_layouts(self):
        api_version = self.project_config.project__package__api_version
        listing = ApiListMetadata(self, "Layout", as_of_version=api_version)()
        existing = sorted(
            item["fullName"]
            for item in listing.get("Layout", [])
            if (item.get("fullName") or "").startswith("Event-")
        )
        if self.parsed_options.all_layouts:
            state = OK if existing else BLOCKER
            self._add("Event layouts", state,
                      f"{len(existing)} Event layout(s): {', '.join(existing) or 'none'}.",
                      "" if existing else "Create an Event page layout first.")
            return
        missing = [name for name in self.layouts if name not in existing]
        if missing:
            self._add(
                "Event layouts", BLOCKER,
                f"Not found: {', '.join(missing)}. The org's Event layouts: "
                f"{', '.join(existing) or 'none'}.",
                "Pass -o layouts with one of those names, or all_layouts True.",
            )
        else:
            self._add("Event layouts", OK, f"Found: {', '.join(self.layouts)}.")

    def _print_table(self):
        widths = [max(len(row[key]) for row in self.rows) for key in ("check", "state")]
        self.logger.info("Preflight of org %s:", self.org_config.name)
        for row in self.rows:
            line = f"  {row['check']:<{widths[0]}}  {row['state'].upper():<{widths[1]}}  "
            line += row["detail"]
            if row["action"] and row["state"] != OK:
                line += f"  -> {row['action']}"
            log = self.logger.info if row["state"] == OK else self.logger.warning
            log(line)


def _object_action(sobject, namespace) -> str:
    if sobject.startswith(f"{namespace}__"):
        return f"Install the {namespace} package (calendly_check_package_version says which)."
    return "Check that this user's profile or permission sets can read the object."
