"""calendly_uninstall's own steps: take Attendees off the Event layouts, delete the project's
flows with destructive changes. Deactivation is calendly_activate_flow (active: False)."""

from pathlib import Path

from cumulusci.core.utils import process_list_arg
from cumulusci.salesforce_api.metadata import ApiListMetadata
from cumulusci.tasks.salesforce import BaseUninstallMetadata

from tasks.event_layout import AddAttendeesToEventLayouts
from tasks.flow_metadata import manifest

FLOW_SUFFIX = ".flow-meta.xml"


class RemoveAttendeesFromEventLayouts(AddAttendeesToEventLayouts):
    """Take the Attendees field off named Event layouts, in place (the reverse of
    ``calendly_patch_event_layout``, with its options: ``layouts``, ``all_layouts``,
    ``dry_run``). A layout without the field is left alone, so a second run deploys nothing.

    CumulusCI has no stock task that removes a field from a layout in an org (its
    ``remove_metadata_xml_elements`` edits local files only); this reuses the layout task's
    retrieve, transform and deploy and only changes the transform.
    """

    def _transform_entity(self, metadata, api_name):
        field = self._inject_namespace(self.field)
        removed = 0
        for section in metadata.findall("layoutSections"):
            for column in section.findall("layoutColumns"):
                for item in column.findall("layoutItems"):
                    if item.find("field") is not None and item.field.text == field:
                        column.remove(item)
                        removed += 1
        if not removed:
            self.logger.info(f"{api_name} does not have {self.field}; nothing to remove.")
            self.already_patched.append(api_name)
            return None
        verb = "Would remove" if self.dry_run else "Removing"
        self.logger.info(f"{verb} {self.field} from {api_name}.")
        return metadata

    def _run_task(self):
        with self._patched_layouts() as changed:
            self.return_values = {
                "field": self.field,
                "removed": [] if self.dry_run else changed,
                "already_without": sorted(self.already_patched),
                "would_remove": changed if self.dry_run else [],
                "dry_run": self.dry_run,
            }
            if not changed:
                self.logger.info(f"No layout has {self.field}; nothing to deploy.")
            elif self.dry_run:
                self.logger.info(f"Dry run: would remove {self.field} from "
                                 f"{', '.join(changed)}. Nothing written.")
            else:
                self._post_deploy(self._deploy())


class DeleteProjectFlows(BaseUninstallMetadata):
    """Delete the project's flows (every version) with a destructive-changes deploy: the
    flows in ``path`` (default ``flows``) that the org has, found with ``listMetadata``; none
    left, nothing is deployed. Deactivate them first: Salesforce deletes inactive flows only.

    Stock ``uninstall_src`` / ``UninstallLocal`` build the destructive manifest from a
    Metadata API format folder (``flows/*.flow``), not from this project's source-format
    ``flows/*.flow-meta.xml``, and list every member whether the org has it or not; stock
    ``uninstall_packaged_incremental`` deletes what a named package has and the project lacks,
    and ``calendly_setup`` deploys no named package. This keeps the stock deploy, dry run
    (logs the manifest) and ``purge_on_delete``, and chooses the members itself. The project
    deploys no custom fields of its own (the Calendly fields belong to the managed package),
    so flows are all it deletes.
    """

    task_options = {
        **BaseUninstallMetadata.task_options,
        "path": {"description": "Folder of the project's *.flow-meta.xml (default: flows)."},
        "flows": {"description": "Flow API names to delete instead of every flow in path."},
    }

    def _init_options(self, kwargs):
        kwargs.setdefault("path", "flows")
        super()._init_options(kwargs)
        folder = Path(self.project_config.repo_root or ".") / self.options["path"]
        self.project_flows = process_list_arg(self.options.get("flows")) or sorted(
            p.name[: -len(FLOW_SUFFIX)] for p in folder.glob(f"*{FLOW_SUFFIX}"))

    def _get_destructive_changes(self, path=None):
        listing = ApiListMetadata(self, "Flow", as_of_version=self._api_version())()
        in_org = {item.get("fullName") for item in listing.get("Flow", [])}
        self.members = [name for name in self.project_flows if name in in_org]
        if not self.members:
            self.logger.info("None of the project's flows is in the org; nothing to delete.")
            return None
        return manifest({"Flow": self.members}, self._api_version()).decode()

    def _api_version(self) -> str:
        return self.project_config.project__package__api_version

    def _run_task(self):
        self.members = []
        super()._run_task()
        dry_run = self.options["dry_run"]
        self.return_values = {
            "deleted": [] if dry_run else self.members,
            "would_delete": self.members if dry_run else [],
            "dry_run": dry_run,
        }

