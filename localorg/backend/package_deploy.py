"""InstalledPackage deploys: upgrading an installed managed package to a newer version.

Deploying an InstalledPackage with a newer `versionNumber` than the installed one upgrades the
package; it must be the only metadata type of the deploy (Metadata API Developer Guide,
"InstalledPackage", meta_installedpackage.htm). The local org's packages are stand-ins whose
components do not change between versions, so an upgrade changes the version the org reports
(Tooling SubscriberPackageVersion, CumulusCI's installed_packages) and nothing else. It cannot
install a package that is not installed at all, nor go back to an older version.
"""

import re

from lxml import etree

from localorg.backend.metadata_types import md
from localorg.backend.packages import VERSION_RE, Package

PARTS_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:b(\d+))?$")


def version_key(text: str) -> tuple:
    """Sortable form of MAJOR.MINOR[.PATCH][bBETA]; a beta sorts before its release."""
    major, minor, patch, beta = PARTS_RE.match(text).groups()
    return int(major), int(minor), int(patch or 0), int(beta) if beta else float("inf")


def in_schema_order(body: bytes, order: list) -> bytes:
    """The component with its child elements in the schema's order. Salesforce reads an
    InstalledPackage's fields in any order: its own documented sample and CumulusCI's stock
    payload put versionNumber first, against the WSDL's sequence."""
    root = etree.fromstring(body)
    rank = {name: i for i, name in enumerate(order)}
    children = [c for c in root if isinstance(c.tag, str)]
    for child in children:
        root.remove(child)
    root.extend(sorted(children, key=lambda c: rank.get(etree.QName(c).localname, len(rank))))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def check_install(comp, org) -> None:
    """Set comp.upgrade_to (the version to install) or add the problem that fails it."""
    wanted = md(etree.fromstring(comp.body), "versionNumber") or ""
    have = {p["namespace"]: str(p["version"]) for p in org.installed_packages()}
    current = have.get(comp.full_name)
    comp.created = False
    if not VERSION_RE.match(wanted):
        comp.problems.append((f"Invalid version specified:{wanted}", "Error", None))
    elif current is None:
        comp.problems.append((
            f"The local org cannot install packages: {comp.full_name} {wanted} was requested "
            "and it is not installed. Start the local org with the package (python -m localorg "
            "start --fresh --calendly-version ...), or install it in a real org.", "Error", None))
    elif version_key(wanted) < version_key(current):
        comp.problems.append((
            f"A newer version of this package is currently installed: {comp.full_name} "
            f"{current} (requested {wanted}); a managed package cannot be downgraded.",
            "Error", None))
    elif version_key(wanted) > version_key(current):
        comp.upgrade_to = wanted


def upgrade(comp, org) -> None:
    """Apply a checked InstalledPackage component: install its newer version, if any."""
    if comp.upgrade_to:
        org.install_package(Package(comp.full_name, comp.upgrade_to))


def check_alone(comps: list) -> None:
    """An InstalledPackage deploy that carries other metadata types fails."""
    kinds = {c.kind for c in comps}
    if "InstalledPackage" in kinds and len(kinds) > 1:
        for comp in comps:
            if comp.kind == "InstalledPackage":
                comp.problems.append((
                    "You can't deploy a package along with other metadata types: InstalledPackage "
                    f"must be the only type in the deploy (this one also has "
                    f"{', '.join(sorted(kinds - {'InstalledPackage'}))}).", "Error", None))
