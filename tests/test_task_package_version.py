"""calendly_check_package_version: missing, old, newer, betas, bad options."""

from pathlib import Path

import pytest
from cumulusci.core.exceptions import TaskOptionsError

from tasks.package_version import (
    CheckPackageVersion,
    PackageVersionError,
    parse_version,
)
from tests.fixtures.tasks.task_fake_org import make_task


@pytest.fixture
def org(fake_org):
    return fake_org


def run(options=None):
    task = make_task(CheckPackageVersion, options)
    task()
    return task


def test_missing_package_fails_with_upgrade_hint(org):
    org.install_package("OtherNs", "9.0")
    with pytest.raises(PackageVersionError) as err:
        run()
    message = str(err.value)
    assert "Calendly package is not installed" in message
    assert "2.5 or newer" in message
    assert "AppExchange" in message


def test_old_package_names_both_versions(org):
    org.install_package("Calendly", "2.4")
    with pytest.raises(PackageVersionError) as err:
        run()
    assert "at version 2.4" in str(err.value)
    assert "older than the required 2.5" in str(err.value)


@pytest.mark.parametrize(
    "installed, beta, shown",
    [
        ("2.5", None, "2.5"),
        ("2.10", None, "2.10"),
        ("3.0.2", None, "3.0.2"),
        ("2.6", 1, "2.6 (Beta 1)"),
    ],
)
def test_new_enough_package_passes_and_returns_version(org, installed, beta, shown):
    org.install_package("Calendly", installed, beta=beta)
    task = run()
    assert task.return_values["installed_version"] == shown
    assert task.return_values["min_version"] == "2.5"
    # Read-only: only the two Tooling queries of installed_packages (plus the version list).
    assert all(call.request.method == "GET" for call in org.mock.calls)


def test_beta_of_the_required_version_is_too_old(org):
    # Documented choice: "2.5 (Beta 3)" was built before 2.5 was released.
    org.install_package("Calendly", "2.5", beta=3)
    with pytest.raises(PackageVersionError, match=r"at version 2.5 \(Beta 3\)"):
        run()


def test_two_point_ten_is_newer_than_two_point_five(org):
    org.install_package("Calendly", "2.10")
    assert run({"min_version": "2.9"}).return_values["installed_version"] == "2.10"
    with pytest.raises(PackageVersionError):
        run({"min_version": "2.11"})


def test_min_version_accepts_salesforce_beta_spelling(org):
    org.install_package("Calendly", "2.6", beta=2)
    assert run({"min_version": "2.6 (Beta 1)"}).return_values["installed_version"] == "2.6 (Beta 2)"
    with pytest.raises(PackageVersionError):
        run({"min_version": "2.6 (Beta 3)"})


def test_bad_min_version_is_an_option_error():
    with pytest.raises(TaskOptionsError, match="min_version 'latest' is not a package version"):
        make_task(CheckPackageVersion, {"min_version": "latest"})


def test_two_packages_in_the_namespace_is_an_error(org):
    org.install_package("Calendly", "2.5")
    org.install_package("Calendly", "3.0")
    with pytest.raises(PackageVersionError, match=r"Several packages use the Calendly namespace"):
        run()


@pytest.mark.parametrize(
    "text, expected",
    [("2.5", "2.5"), ("2.5b3", "2.5b3"), ("2.5 (Beta 3)", "2.5b3"), (" 2.6 (beta 1) ", "2.6b1")],
)
def test_parse_version(text, expected):
    assert parse_version(text) == parse_version(expected)


def project_dependencies() -> list:
    import yaml

    config = yaml.safe_load((Path(__file__).parents[1] / "cumulusci.yml").read_text())
    return config["project"]["dependencies"]


def test_min_version_above_the_dependency_names_the_real_dependency(org):
    """-o min_version 2.10: the message names cumulusci.yml's dependency (2.5), not 2.10, and
    says that installing the dependency would not be enough (issue 10)."""
    org.install_package("Calendly", "2.5")
    task = make_task(CheckPackageVersion, {"min_version": "2.10"})
    task.project_config.config["project"]["dependencies"] = project_dependencies()
    with pytest.raises(PackageVersionError) as err:
        task()
    message = str(err.value)
    assert "older than the required 2.10" in message
    assert "the project's dependency in cumulusci.yml is Calendly 2.5)" in message
    assert "min_version 2.10 is above that dependency" in message
    assert "dependency is Calendly 2.10" not in message


def test_no_project_dependency_points_to_the_appexchange(org):
    with pytest.raises(PackageVersionError) as err:
        run()
    assert "from its AppExchange listing" in str(err.value)
    assert "cci flow run dependencies" not in str(err.value)
