"""Assign the project's permission set to the running user, with a dry run."""

from cumulusci.core.exceptions import TaskOptionsError
from cumulusci.core.utils import process_bool_arg
from cumulusci.tasks.salesforce.users.permsets import AssignPermissionSets


class AssignPermissionSetsDryRun(AssignPermissionSets):
    """Stock ``assign_permission_sets`` plus ``dry_run``, as every other writing step of
    ``calendly_setup`` has: in a dry run the permission set was not deployed either, so the
    stock task would stop on "Permission Sets were not found" (or write an assignment).
    A dry run names the permission sets and queries or writes nothing.
    """

    task_options = {
        **AssignPermissionSets.task_options,
        "dry_run": {"description": "True: report what would be assigned; write nothing."},
    }

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        try:
            self.dry_run = process_bool_arg(self.options.get("dry_run") or False)
        except TypeError as err:
            raise TaskOptionsError(
                f"dry_run {self.options.get('dry_run')!r}: give True or False.") from err

    def _run_task(self):
        names = self.options["api_names"]
        if self.dry_run:
            self.logger.info(f"Dry run: would assign the permission sets {', '.join(names)} "
                             "to the running user when not yet assigned. Nothing written.")
        else:
            super()._run_task()
        self.return_values = {"api_names": names, "dry_run": self.dry_run}
