"""Deploy the project's booking outcome fields, only when the org lacks one of them."""

from pathlib import Path

from cumulusci.core.exceptions import TaskOptionsError
from cumulusci.core.utils import process_bool_arg
from cumulusci.salesforce_api.metadata import ApiListMetadata
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


def source_permission_sets(folder: Path) -> list:
    """Names of the `*.permissionset-meta.xml` files of a source-format permissionsets/ folder."""
    return sorted(f.name[: -len(".permissionset-meta.xml")]
                  for f in folder.glob("*.permissionset-meta.xml"))


class DeploySyncFields(Deploy):
    """Stock ``Deploy`` of ``path`` (the outcome fields and list views the flows write on
    ``Calendly__CalendlyAction__c``), skipped when the org's describe already lists every field;
    then of ``permission_sets`` (the permission set granting those fields: a deployed custom
    field is visible to no profile without one), skipped when listMetadata lists each one.

    The stock task deploys on every run; this one reads the describe first, so a re-run of
    ``calendly_setup`` writes nothing. It compares field names only: to change a field that
    exists (a new picklist value), run the stock ``deploy`` task with the same path.
    ``dry_run``: report the missing fields, deploy nothing.
    """

    task_options = {
        **Deploy.task_options,
        "dry_run": {"description": "True: report what would be deployed; write nothing."},
        "permission_sets": {"description": "Source-format permissionsets/ folder deployed "
                                           "after the fields when the org lacks one of them."},
    }

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        path = self._project_path(self.options["path"])
        if not path.is_dir() or not source_fields(path):
            raise TaskOptionsError(
                f"path {self.options['path']} holds no <Object>/fields/*.field-meta.xml: give "
                "the source-format objects folder (default: force-app/main/default/objects)."
            )
        self.fields_dir = path
        self.perms_dir = None
        if self.options.get("permission_sets"):
            self.perms_dir = self._project_path(self.options["permission_sets"])
            if not self.perms_dir.is_dir() or not source_permission_sets(self.perms_dir):
                raise TaskOptionsError(
                    f"permission_sets {self.options['permission_sets']} holds no "
                    "*.permissionset-meta.xml: give the source-format permissionsets folder "
                    "(default: force-app/main/default/permissionsets).")
        try:
            self.dry_run = process_bool_arg(self.options.get("dry_run") or False)
        except TypeError as err:
            raise TaskOptionsError(
                f"dry_run {self.options.get('dry_run')!r}: give True or False."
            ) from err

    def _project_path(self, option: str) -> Path:
        path = Path(option)
        if not path.is_absolute() and self.project_config.repo_root:
            path = Path(self.project_config.repo_root) / path
        return path

    def _missing_permission_sets(self) -> list:
        if self.perms_dir is None:
            return []
        listing = ApiListMetadata(self, "PermissionSet")()
        have = {item["fullName"] for item in listing.get("PermissionSet", [])}
        return [f"PermissionSet:{name}" for name in source_permission_sets(self.perms_dir)
                if name not in have]

    def _run_task(self):
        _, fields = fields_in_org(self.org_config.salesforce_client, self.fields_dir)
        perms = self._missing_permission_sets()
        missing, dry_run = fields + perms, self.dry_run
        if not missing:
            self.logger.info("Every sync outcome field and permission set is in the org; "
                             "nothing to deploy.")
        elif dry_run:
            self.logger.info(f"Dry run: would deploy the missing sync outcome fields and "
                             f"permission sets: {', '.join(missing)}. Nothing written.")
        else:
            self.logger.info(f"Deploying the missing sync outcome fields and permission sets: "
                             f"{', '.join(missing)}")
            if fields:
                super()._run_task()
            api = perms and self._get_api(path=str(self.perms_dir))
            if api:  # after the fields its fieldPermissions name
                api()
        # The same keys in a dry run and a real one, as calendly_deploy_flows: deployed is
        # empty in a dry run, would_deploy in a real one.
        self.return_values = {"missing": missing, "deployed": [] if dry_run else missing,
                              "would_deploy": missing if dry_run else [], "dry_run": dry_run}
