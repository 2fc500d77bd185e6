"""The stock Robot task, runnable from any checkout."""

from pathlib import Path

from cumulusci.tasks.robotframework import Robot as StockRobot


class Robot(StockRobot):
    """CumulusCI's ``Robot`` task, unchanged except for the repository name it gives the suites.

    The stock task puts ``project_config.repo_name`` into ``CCI_CONTEXT``. That property parses
    git's ``origin`` as a hosting URL (``cumulusci.utils.git.parse_repo_url``: owner, name and
    host are the last three parts of the URL) and fails with "list index out of range" when
    ``origin`` is a local path such as ``/srv/calendly``, which every clone of a local clone
    has. Then the checkout folder's name stands in for the repository name. The only other
    way in, ``CUMULUSCI_REPO_URL``, is an environment variable each user would have to set.
    """

    def _run_task(self):
        try:
            _ = self.project_config.repo_name  # the property raises IndexError
        except IndexError:
            root = self.project_config.repo_root
            name = Path(root).name if root else self.project_config.project__name
            self.logger.info(f"git origin is not a hosting URL; the suites see repo_name {name}")
            self.project_config.repo_info["name"] = name
        return super()._run_task()
