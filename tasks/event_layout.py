"""Add the Attendees ("Participants") field to Event page layouts, in place."""

import tempfile
from contextlib import contextmanager
from urllib.parse import quote, unquote

from cumulusci.core.exceptions import CumulusCIFailure, TaskOptionsError
from cumulusci.core.utils import process_bool_arg, process_list_arg
from cumulusci.salesforce_api.metadata import ApiListMetadata
from cumulusci.tasks.metadata_etl import MetadataSingleEntityTransformTask
from cumulusci.tasks.metadata_etl.layouts import AddFieldsToLayoutOptions, AddFieldsToPageLayout

from tasks.options import NamedOptions

# Layout-metadata name of Lightning's Attendees field (docs/research.md, "The Attendees field
# in layouts"). The one place this task names it.
ATTENDEES_FIELD = "Attendees"
# After "Related To" (WhatId), as in the project's own Event layout; else the stock default.
ATTENDEES_POSITION = [{"relative": "after", "field": "WhatId"}]


class EventLayoutError(CumulusCIFailure):
    """A named Event layout does not exist, or the org has none."""


class AddAttendeesToEventLayouts(NamedOptions, AddFieldsToPageLayout):
    """Add the Attendees field to named Event layouts, or to every Event layout.

    Extends the stock ``add_page_layout_fields`` (retrieve, insert, deploy), which lacks:
    discovering all Event layouts (Metadata API ``listMetadata`` of type Layout, names
    starting ``Event-``); a clear error naming a missing layout and listing the ones that
    exist (stock fails with a file path); skipping layouts that already have the field
    (stock redeploys them unchanged, and its list of existing fields leaks from one
    layout to the next); no deploy at all when nothing changes; and a dry run.

    Options stay in the stock ``task_options`` form rather than a pydantic ``Options``
    class because the stock Metadata ETL base writes into ``self.options``.
    """

    task_options = {
        "layouts": {"description": "Event layout names, e.g. 'Event-Event Layout'."},
        "all_layouts": {
            "description": "True: patch every Event layout in the org (layouts is then ignored)."
        },
        "field": {"description": f"Field to add (default {ATTENDEES_FIELD})."},
        "dry_run": {"description": "True: report what would change; write nothing."},
        **{
            k: v
            for k, v in MetadataSingleEntityTransformTask.task_options.items()
            if k != "api_names"
        },
    }

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        self.layouts = process_list_arg(self.options.get("layouts")) or []
        try:
            self.all_layouts = process_bool_arg(self.options.get("all_layouts") or False)
            self.dry_run = process_bool_arg(self.options.get("dry_run") or False)
        except TypeError as err:
            raise TaskOptionsError(f"all_layouts and dry_run take True or False: {err}") from err
        self.field = self.options.get("field") or ATTENDEES_FIELD
        if not self.layouts and not self.all_layouts:
            raise TaskOptionsError(
                "Give layouts (e.g. layouts: 'Event-Event Layout') or all_layouts: True."
            )
        wrong = [name for name in self.layouts if not name.startswith("Event-")]
        if wrong:
            raise TaskOptionsError(
                f"Not Event layouts: {', '.join(wrong)}. Event layout names start with 'Event-'."
            )
        fields = [{"api_name": self.field, "position": list(ATTENDEES_POSITION)}]
        self._validated_options = AddFieldsToLayoutOptions(fields=fields)
        self._adding_fields = fields
        self._adding_pages = None

    @contextmanager
    def _patched_layouts(self):
        """Retrieve the layouts and patch them into self.deploy_dir (a temporary folder, gone
        after the block); yield the names of those that changed."""
        self.api_names = self._layout_api_names()
        self.already_patched = []
        with tempfile.TemporaryDirectory() as tempdir:
            self._create_directories(tempdir)
            self._retrieve()
            self._transform()
            yield sorted(unquote(name) for name in self.api_names)

    def _run_task(self):
        with self._patched_layouts() as changed:
            self.return_values = {
                "field": self.field,
                "patched": [] if self.dry_run else changed,
                "already_patched": sorted(self.already_patched),
                "would_patch": [],
                "dry_run": self.dry_run,
            }
            if not changed:
                self.logger.info(f"{self.field} is already on every layout; nothing to deploy.")
                return
            if self.dry_run:
                self.return_values["would_patch"] = changed
                self.logger.info(
                    f"Dry run: would add {self.field} to {', '.join(changed)}. Nothing written."
                )
                return
            self._post_deploy(self._deploy())

    def _layout_api_names(self) -> set:
        """The layouts to patch (named, or every Event layout), as Metadata API names."""
        existing = self._event_layouts()
        if self.all_layouts:
            if not existing:
                raise EventLayoutError(f"Org {self.org_config.name} has no Event layouts.")
            names = existing
        else:
            missing = [name for name in self.layouts if name not in existing]
            if missing:
                raise EventLayoutError(
                    f"Event layout(s) not found: {', '.join(missing)}. Event layouts in org "
                    f"{self.org_config.name}: {', '.join(existing) or 'none'}."
                )
            names = self.layouts
        return {quote(self._inject_namespace(name), safe=" ") for name in names}

    def _event_layouts(self) -> list:
        listing = ApiListMetadata(self, "Layout", as_of_version=self.api_version)()
        return sorted(
            item["fullName"]
            for item in listing.get("Layout", [])
            if (item.get("fullName") or "").startswith("Event-")
        )

    def _transform_entity(self, metadata, api_name):
        fields = {
            item.field.text
            for section in metadata.findall("layoutSections")
            for column in section.findall("layoutColumns")
            for item in column.findall("layoutItems")
            if item.find("field") is not None
        }
        if self._inject_namespace(self.field) in fields:
            self.logger.info(f"{api_name} already has {self.field}.")
            self.already_patched.append(api_name)
            return None
        # The stock task accumulates these across layouts; start clean for each one.
        self._existing_field_names = []
        self._existing_page_names = []
        if self.dry_run:
            self.logger.info(f"Would add {self.field} to {api_name}.")
            return metadata
        return super()._transform_entity(metadata, api_name)
