"""The org's API names of the booking's guest and co-host fields, from ``cumulusci.yml``.

Calendly does not publish these two field names, so the flows in ``flows/`` are written
with this project's names (``SOURCE_NAMES``) and an org whose package names them
differently maps them once, in ``project.custom.calendly_fields``::

    project:
        custom:
            calendly_fields:
                guest_emails: Calendly__Guests__c
                host_emails: Calendly__CoHosts__c

The deploy applies the mapping with CumulusCI's own ``find_replace`` source transform,
and the preflight checks the mapped names against the org.
"""

import io
import re
import zipfile

from cumulusci.core.dependencies.utils import TaskContext
from cumulusci.core.exceptions import TaskOptionsError
from cumulusci.core.source_transforms.transforms import (
    FindReplaceTransform,
    FindReplaceTransformOptions,
)

SOURCE_NAMES = {
    "guest_emails": "Calendly__EventGuestEmails__c",
    "host_emails": "Calendly__EventHostEmails__c",
}
SETTING = "project.custom.calendly_fields"
API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def field_mapping(project_config) -> dict:
    """{logical name: org API name}, the source names where cumulusci.yml maps nothing."""
    given = project_config.project__custom__calendly_fields or {}
    if not isinstance(given, dict):
        raise TaskOptionsError(
            f"{SETTING} must map names to fields, e.g. guest_emails: Calendly__Guests__c; "
            f"got {given!r}."
        )
    unknown = sorted(set(given) - set(SOURCE_NAMES))
    if unknown:
        raise TaskOptionsError(
            f"{SETTING} has unknown key(s) {', '.join(unknown)}; the keys are "
            f"{', '.join(SOURCE_NAMES)}."
        )
    mapping = dict(SOURCE_NAMES)
    for key, value in given.items():
        if not isinstance(value, str) or not API_NAME.match(value) or "___" in value:
            raise TaskOptionsError(
                f"{SETTING}.{key} is {value!r}, not a field API name: give the field's API "
                "name as Setup > Object Manager > Calendly Action > Fields shows it, for "
                "example Calendly__EventGuestEmails__c."
            )
        mapping[key] = value
    return mapping


def renamed(project_config) -> dict:
    """{source name: org name} for the fields the mapping renames (empty when none)."""
    mapping = field_mapping(project_config)
    return {
        SOURCE_NAMES[key]: name for key, name in mapping.items() if name != SOURCE_NAMES[key]
    }


def apply_mapping(task, flows: dict) -> dict:
    """{name: xml bytes} with the mapped field names, through the stock find_replace transform."""
    renames = renamed(task.project_config)
    if not renames:
        return dict(flows)
    options = FindReplaceTransformOptions(
        patterns=[{"find": source, "replace": org} for source, org in renames.items()]
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, xml in flows.items():
            archive.writestr(f"flows/{name}.flow", xml)
    context = TaskContext(task.org_config, task.project_config, task.logger)
    with zipfile.ZipFile(buffer) as archive:
        result = FindReplaceTransform(options).process(archive, context)
    mapped = {name: result.read(f"flows/{name}.flow") for name in flows}
    result.close()
    return mapped
