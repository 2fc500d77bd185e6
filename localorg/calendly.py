"""This project's package on the local org: the Calendly stand-in and the names the project's
scenarios, demo and sample data use. The emulator core (`localorg.backend`, `server`, `flow`)
names no Calendly object; it installs this package through `Org(packages=...)`.

    org = local_org()                     # a fresh in-memory org with Calendly 2.5 installed
    org = local_org(path, version="2.4")  # or another version; version=None: without it
"""

from pathlib import Path

from localorg.backend import Org, Package

ROOT = Path(__file__).resolve().parents[1]  # the project's checkout
STANDIN = ROOT / "unpackaged" / "standin" / "calendly"  # the package's objects and fields
NAMESPACE = "Calendly"
VERSION = "2.5"  # the version a new local org reports unless told otherwise
BOOKING = "Calendly__CalendlyAction__c"  # one record per booking, inserted by Calendly
INVITEE_UUID = "Calendly__InviteeUuid__c"  # the Event field naming the booking's invitee


def package(version: str = VERSION) -> Package:
    return Package(NAMESPACE, str(version), source=STANDIN)


def packages(version: str | None = VERSION) -> list:
    """[the stand-in at `version`], or [] for None or "none" (an org without the package)."""
    if version is None or str(version).lower() in ("", "none"):
        return []
    return [package(version)]


def local_org(path=":memory:", version: str | None = VERSION, **options) -> Org:
    """An `Org` that has the stand-in at `version` installed when it is new (an existing org
    file keeps what it has); `options` as `Org` takes them (run_flows=...)."""
    return Org(path, packages=packages(version), **options)


def installed_version(org: Org) -> str | None:
    """The Calendly version the org reports installed, or None."""
    return next((p["version"] for p in org.installed_packages()
                 if p["namespace"] == NAMESPACE), None)
