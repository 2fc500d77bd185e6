"""This project's package on the local org: the Calendly stand-in and the names the project's
scenarios, demo and sample data use. The emulator core (`localorg.backend`, `server`, `flow`)
names no Calendly object; it installs this package through `Org(packages=...)`.

    org = local_org()                     # a fresh in-memory org with Calendly 2.5 installed
    org = local_org(path, version="2.4")  # or another version; version=None: without it
"""

import atexit
import re
import shutil
import tempfile
from pathlib import Path

from localorg.backend import Org, Package

ROOT = Path(__file__).resolve().parents[1]  # the project's checkout
STANDIN = ROOT / "unpackaged" / "standin" / "calendly"  # the package's objects and fields
NAMESPACE = "Calendly"
VERSION = "2.5"  # the version a new local org reports unless told otherwise
BOOKING = "Calendly__CalendlyAction__c"  # one record per booking, inserted by Calendly
INVITEE_UUID = "Calendly__InviteeUuid__c"  # the Event field naming the booking's invitee


FIELD_NAME = re.compile(rf"^{NAMESPACE}__[A-Za-z](?!.*__.*__c$)[A-Za-z0-9_]*__c$")


def standin_fields() -> list:
    """The custom field API names the stand-in declares, every object's."""
    return sorted({f.name[: -len(".field-meta.xml")] for f in STANDIN.glob("objects/*/fields/*")})


def parse_rename(text: str) -> tuple:
    """"OLD=NEW" for a stand-in field named differently, as another package version may."""
    old, sep, new = text.partition("=")
    if not sep or old not in standin_fields():
        raise ValueError(f"{text!r}: give OLD=NEW, OLD one of the stand-in's fields: "
                         f"{', '.join(standin_fields())}")
    if not FIELD_NAME.match(new):
        raise ValueError(f"{text!r}: NEW must be a field API name of the package, like "
                         f"{NAMESPACE}__GuestEmails__c")
    return old, new


def renamed_standin(renames: dict, folder: Path) -> Path:
    """A copy of the stand-in in `folder` whose fields `renames` ({old: new}) are renamed: an
    org whose package names them differently (the project maps such names in cumulusci.yml)."""
    target = Path(folder) / "calendly-standin"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(STANDIN, target)
    for old, new in renames.items():
        for file in target.glob(f"objects/*/fields/{old}.field-meta.xml"):
            text = file.read_text().replace(f"<fullName>{old}</fullName>",
                                            f"<fullName>{new}</fullName>")
            file.with_name(f"{new}.field-meta.xml").write_text(text)
            file.unlink()
    return target


def package(version: str = VERSION, source: Path = STANDIN) -> Package:
    return Package(NAMESPACE, str(version), source=source)


def packages(version: str | None = VERSION, source: Path = STANDIN) -> list:
    """[the stand-in at `version`], or [] for None or "none" (an org without the package)."""
    if version is None or str(version).lower() in ("", "none"):
        return []
    return [package(version, source)]


def local_org(path=":memory:", version: str | None = VERSION, renames: dict | None = None,
              **options) -> Org:
    """An `Org` that has the stand-in at `version` installed when it is new (an existing org
    file keeps what it has); `renames` ({old: new} field names) installs a renamed copy, kept
    beside the org file (a temporary folder for an in-memory org); `options` as `Org` takes
    them (run_flows=...)."""
    source = STANDIN
    if renames:
        if str(path) == ":memory:":
            folder = tempfile.mkdtemp(prefix="localorg-")
            atexit.register(shutil.rmtree, folder, True)
        else:
            folder = Path(path).parent
        source = renamed_standin(renames, folder)
    return Org(path, packages=packages(version, source), **options)


def installed_version(org: Org) -> str | None:
    """The Calendly version the org reports installed, or None."""
    return next((p["version"] for p in org.installed_packages()
                 if p["namespace"] == NAMESPACE), None)
