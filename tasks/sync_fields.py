"""Deploy the project's booking outcome fields, only when the org lacks one of them."""

from pathlib import Path

from cumulusci.core.exceptions import TaskOptionsError
from cumulusci.core.utils import process_bool_arg
from cumulusci.tasks.salesforce import Deploy
from simple_salesforce.exceptions import SalesforceResourceNotFound


def source_fields(objects_dir: Path) -> dict:
    """{object: [field API name, ...]} of a source-format objects/ folder."""
    fields = {}
    for obj in sorted(p for p in objects_dir.iterdir() if p.is_dir()):
        names = sorted(f.name[: -len(".field-meta.xml")]
                       for f in (obj / "fields").glob("*.field-meta.xml"))
        if names:
            fields[obj.name] = names
    return fields


def fields_in_org(sf, objects_dir: Path) -> tuple[list, list]:
    """(in the org, missing): the "Object.Field" names of a source-format objects/ folder,
    split by the org's describe. An object the org does not have has every field missing."""
    present, missing = [], []
    for sobject, names in source_fields(objects_dir).items():
        try:
            have = {field["name"] for field in sf.restful(f"sobjects/{sobject}/describe")["fields"]}
        except SalesforceResourceNotFound:
            have = set()
        for name in names:
            (present if name in have else missing).append(f"{sobject}.{name}")
    return present, missing


class DeploySyncFields(Deploy):
    """Stock ``Deploy`` of ``path`` (the outcome fields and list views the flows write on
    ``Calendly__CalendlyAction__c``), skipped when the org's describe already lists every field.

    The stock task deploys on every run; this one reads the describe first, so a re-run of
    ``calendly_setup`` writes nothing. It compares field names only: to change a field that
    exists (a new picklist value), run the stock ``deploy`` task with the same path.
    ``dry_run``: report the missing fields, deploy nothing.
    """

    task_options = {
        **Deploy.task_options,
        "dry_run": {"description": "True: report what would be deployed; write nothing."},
    }

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        path = Path(self.options["path"])
        if not path.is_absolute() and self.project_config.repo_root:
            path = Path(self.project_config.repo_root) / path
        if not path.is_dir() or not source_fields(path):
            raise TaskOptionsError(
                f"path {self.options['path']} holds no <Object>/fields/*.field-meta.xml: give "
                "the source-format objects folder (default: force-app/main/default/objects)."
            )
        self.fields_dir = path
        try:
            self.dry_run = process_bool_arg(self.options.get("dry_run") or False)
        except TypeError as err:
            raise TaskOptionsError(
                f"dry_run {self.options.get('dry_run')!r}: give True or False."
            ) from err

    def _run_task(self):
        _, missing = fields_in_org(self.org_config.salesforce_client, self.fields_dir)
        dry_run = self.dry_run
        if not missing:
            self.logger.info("Every sync outcome field is in the org; nothing to deploy.")
        elif dry_run:
            self.logger.info(f"Dry run: would deploy the missing sync outcome fields: "
                             f"{', '.join(missing)}. Nothing written.")
        else:
            self.logger.info(f"Deploying the missing sync outcome fields: {', '.join(missing)}")
            super()._run_task()
        # The same keys in a dry run and a real one, as calendly_deploy_flows: deployed is
        # empty in a dry run, would_deploy in a real one.
        self.return_values = {"missing": missing, "deployed": [] if dry_run else missing,
                              "would_deploy": missing if dry_run else [], "dry_run": dry_run}
