"""Deploy the project's booking outcome fields, only when the org lacks one of them."""

from pathlib import Path

from cumulusci.core.utils import process_bool_arg
from cumulusci.tasks.salesforce import Deploy


def source_fields(objects_dir: Path) -> dict:
    """{object: [field API name, ...]} of a source-format objects/ folder."""
    fields = {}
    for obj in sorted(p for p in objects_dir.iterdir() if p.is_dir()):
        names = sorted(f.name[: -len(".field-meta.xml")]
                       for f in (obj / "fields").glob("*.field-meta.xml"))
        if names:
            fields[obj.name] = names
    return fields


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

    def _run_task(self):
        path = Path(self.options["path"])
        if not path.is_absolute() and self.project_config.repo_root:
            path = Path(self.project_config.repo_root) / path
        sf = self.org_config.salesforce_client
        missing = []
        for sobject, names in source_fields(path).items():
            describe = sf.restful(f"sobjects/{sobject}/describe")
            have = {field["name"] for field in describe["fields"]}
            missing += [f"{sobject}.{name}" for name in names if name not in have]
        dry_run = process_bool_arg(self.options.get("dry_run") or False)
        if not missing:
            self.logger.info("Every sync outcome field is in the org; nothing to deploy.")
        elif dry_run:
            self.logger.info(f"Dry run: would deploy the missing sync outcome fields: "
                             f"{', '.join(missing)}. Nothing written.")
        else:
            self.logger.info(f"Deploying the missing sync outcome fields: {', '.join(missing)}")
            super()._run_task()
        # The same keys in a dry run and a real one (would_deploy empty in a real run).
        self.return_values = {"missing": missing, "deployed": bool(missing) and not dry_run,
                              "would_deploy": missing if dry_run else [], "dry_run": dry_run}
