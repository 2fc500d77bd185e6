"""Fail fast when the Calendly managed package is missing or too old."""

import re

from cumulusci.core.exceptions import CumulusCIFailure, TaskOptionsError
from cumulusci.core.tasks import BaseSalesforceTask
from cumulusci.utils.options import CCIOptions, Field
from cumulusci.utils.version_strings import StrictVersion

from tasks.options import NamedOptions

# Salesforce shows betas as "2.6 (Beta 1)"; CumulusCI's StrictVersion spells them "2.6b1".
_SALESFORCE_BETA = re.compile(r"^\s*(\d+(?:\.\d+){1,2})\s*\(\s*Beta\s+(\d+)\s*\)\s*$", re.I)


class PackageVersionError(CumulusCIFailure):
    """The required managed package is missing or older than required."""


def parse_version(text: str) -> StrictVersion:
    """Parse "2.5", "2.5.1", "2.5b3" or Salesforce's "2.5 (Beta 3)" into a StrictVersion."""
    match = _SALESFORCE_BETA.match(str(text))
    normalised = f"{match.group(1)}b{match.group(2)}" if match else str(text).strip()
    try:
        return StrictVersion(normalised)
    except ValueError as err:
        raise TaskOptionsError(
            f"min_version {text!r} is not a package version: use a form like 2.5, 2.5.1 or "
            "'2.5 (Beta 3)' (quote it in YAML: unquoted, 2.10 reads as 2.1)."
        ) from err


def display_version(version: StrictVersion) -> str:
    """Show a version the way Salesforce's Installed Packages page does."""
    number = ".".join(str(part) for part in version.version)
    if number.endswith(".0") and number.count(".") == 2:
        number = number[: -len(".0")]
    if version.prerelease:
        return f"{number} (Beta {version.prerelease[1]})"
    return number


class CheckPackageVersion(NamedOptions, BaseSalesforceTask):
    """Check that a managed package (default: Calendly) is installed at min_version or newer.

    Uses the stock ``org_config.installed_packages`` (Tooling query of
    InstalledSubscriberPackage + SubscriberPackageVersion) and
    ``org_config.has_minimum_package_version``; a task is needed only because the stock
    check returns a bool and nothing in CumulusCI turns it into a failing step with
    an actionable message.

    Versions compare numerically ("2.10" > "2.5"). A beta is a pre-release of its
    version: "2.6 (Beta 1)" satisfies 2.5, but "2.5 (Beta 3)" does NOT satisfy 2.5
    (it was built before 2.5 was released), exactly as StrictVersion orders them.
    """

    class Options(CCIOptions):
        namespace: str = Field("Calendly", description="Namespace of the managed package.")
        min_version: str = Field(
            "2.5",
            description="Oldest acceptable version, e.g. 2.5, 2.5.1 or '2.6 (Beta 1)'.",
        )

    parsed_options: Options

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        self.min_version = parse_version(self.parsed_options.min_version)

    def _run_task(self):
        namespace = self.parsed_options.namespace
        required = display_version(self.min_version)
        installed = self.org_config.installed_packages.get(namespace, [])
        upgrade = self._upgrade_hint(namespace)
        if not installed:
            raise PackageVersionError(
                f"The {namespace} package is not installed in org {self.org_config.name}; "
                f"version {required} or newer is required. {upgrade}"
            )
        if len(installed) > 1:
            found = ", ".join(display_version(v.number) for v in installed)
            raise PackageVersionError(
                f"Several packages use the {namespace} namespace ({found}); "
                "cannot tell which one is Calendly. Remove the extra package."
            )
        version = installed[0].number
        self.return_values = {
            "namespace": namespace,
            "installed_version": display_version(version),
            "min_version": required,
        }
        if not self.org_config.has_minimum_package_version(namespace, self.min_version):
            raise PackageVersionError(
                f"The {namespace} package is at version {display_version(version)} in org "
                f"{self.org_config.name}, older than the required {required}. {upgrade}"
            )
        self.logger.info(
            f"{namespace} package version {display_version(version)} is installed "
            f"(required: {required} or newer)."
        )

    def project_dependency(self, namespace: str) -> str | None:
        """The version of `namespace` in cumulusci.yml's project dependencies, if listed."""
        for dependency in self.project_config.project__dependencies or []:
            if isinstance(dependency, dict) and dependency.get("namespace") == namespace:
                return str(dependency.get("version") or "") or None
        return None

    def _upgrade_hint(self, namespace: str) -> str:
        """How to get a recent enough package; names the project's dependency as cumulusci.yml
        gives it, and says when min_version asks for more than that dependency installs."""
        org = self.org_config.name
        listed = self.project_dependency(namespace)
        if listed is None:
            return (f"Install or upgrade {namespace} from its AppExchange listing, then re-run "
                    "this step.")
        hint = (f"Install or upgrade it with `cci flow run dependencies --org {org}` (the "
                f"project's dependency in cumulusci.yml is {namespace} {listed}) or from the "
                "AppExchange listing, then re-run this step.")
        if parse_version(listed) < self.min_version:
            hint += (f" min_version {display_version(self.min_version)} is above that "
                     f"dependency: raise the dependency's version in cumulusci.yml first, or "
                     "lower min_version.")
        return hint
