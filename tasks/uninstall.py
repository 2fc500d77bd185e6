"""calendly_uninstall's own steps: take Attendees off the Event layouts, delete the project's
flows and fields with destructive changes. Deactivation is calendly_activate_flow."""

import base64
import io
import zipfile
from pathlib import Path

from cumulusci.core.exceptions import TaskOptionsError
from cumulusci.salesforce_api.metadata import ApiListMetadata
from cumulusci.tasks.salesforce import BaseUninstallMetadata

from tasks.event_layout import AddAttendeesToEventLayouts
from tasks.flow_metadata import manifest
from tasks.sync_fields import fields_in_org

FLOW_SUFFIX = ".flow-meta.xml"
VIEW_SUFFIX = ".listView-meta.xml"


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


class DeleteProjectMetadata(BaseUninstallMetadata):
    """Delete what the setup deployed, with ONE destructive-changes deploy: the project's flows
    (every version; ``flows_path``) that ``listMetadata`` finds, first
    (``destructiveChangesPre.xml``), then the outcome fields (``objects_path``, the folder
    ``calendly_deploy_sync_fields`` deploys) that the object's describe still lists, with
    their list views (``destructiveChangesPost.xml``). Nothing left, nothing is deployed, so a
    second run writes nothing. Deactivate the flows first: Salesforce deletes inactive flows
    only.

    Stock ``uninstall_src`` / ``UninstallLocal`` build one manifest from a Metadata API
    format folder, not from this project's source-format files, and list every member whether
    the org has it or not; stock ``uninstall_packaged_incremental`` deletes what a named
    package has and the project lacks, and ``calendly_setup`` deploys no named package. This
    keeps the stock deploy call, ``dry_run`` (logs the manifests) and ``purge_on_delete``.
    """

    task_options = {
        **BaseUninstallMetadata.task_options,
        "path": {"description": "Folder of the project's *.flow-meta.xml (default: flows)."},
        "objects_path": {"description": "Source-format objects/ folder of the project's fields "
                                         "(default: force-app/main/default/objects)."},
    }

    def _init_options(self, kwargs):
        # kwargs override the task's options: keep a given path, default it for Deploy.
        kwargs.setdefault("path", (self.task_config.options or {}).get("path") or "flows")
        super()._init_options(kwargs)
        root = Path(self.project_config.repo_root or ".")
        folder = root / self.options["path"]
        self.project_flows = sorted(p.name[: -len(FLOW_SUFFIX)]
                                    for p in folder.glob(f"*{FLOW_SUFFIX}"))
        if not self.project_flows:
            raise TaskOptionsError(
                f"path {self.options['path']} holds no *{FLOW_SUFFIX} files: give the folder "
                "calendly_deploy_flows deploys (default: flows)."
            )
        objects = self.options.get("objects_path") or "force-app/main/default/objects"
        self.objects_path = root / objects
        if not self.objects_path.is_dir():
            raise TaskOptionsError(
                f"objects_path {objects} is not a folder: give the source-format objects folder "
                "calendly_deploy_sync_fields deploys (default: force-app/main/default/objects)."
            )

    def _api_version(self) -> str:
        return self.project_config.project__package__api_version

    def _members(self) -> tuple[dict, dict]:
        """({Flow: [...]}, {ListView: [...], CustomField: [...]}) of what the org still has."""
        listing = ApiListMetadata(self, "Flow", as_of_version=self._api_version())()
        in_org = {item.get("fullName") for item in listing.get("Flow", [])}
        flows = [name for name in self.project_flows if name in in_org]
        fields, _ = fields_in_org(self.org_config.salesforce_client, self.objects_path)
        views = []
        for sobject in sorted({name.split(".")[0] for name in fields}):
            # The list views show these fields and go with them.
            folder = self.objects_path / sobject / "listViews"
            views += [f"{sobject}.{p.name[: -len(VIEW_SUFFIX)]}"
                      for p in sorted(folder.glob(f"*{VIEW_SUFFIX}"))]
        return {"Flow": flows}, {"ListView": views, "CustomField": fields}

    def _get_api(self, path=None):
        pre, post = self._members()
        self.deleting = {kind: names for kind, names in {**pre, **post}.items() if names}
        if not self.deleting:
            self.logger.info("Nothing of the project is in the org; nothing to delete.")
            return None
        manifests = {"destructiveChangesPre.xml": manifest(pre, self._api_version()),
                     "destructiveChangesPost.xml": manifest(post, self._api_version())}
        if self.options["dry_run"]:
            self.logger.info("Dry run: would delete, in one destructive-changes deploy:")
            for name, text in manifests.items():
                self.logger.info(f"{name}:\n{text.decode()}")
            return None
        self.logger.info("Deleting: " + "; ".join(f"{kind} {', '.join(names)}"
                                                  for kind, names in self.deleting.items()))
        return self.api_class(self, _zip(manifests, self._api_version()),
                              purge_on_delete=self.options["purge_on_delete"])

    def _run_task(self):
        self.deleting = {}
        super()._run_task()
        dry_run = self.options["dry_run"]
        self.return_values = {
            "deleted": {} if dry_run else self.deleting,
            "would_delete": self.deleting if dry_run else {},
            "dry_run": dry_run,
        }


def _zip(manifests: dict, api_version: str) -> str:
    """A destructive-only deploy: an empty package.xml and the destructive manifests."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("package.xml", manifest({}, api_version))
        for name, text in manifests.items():
            archive.writestr(name, text)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
