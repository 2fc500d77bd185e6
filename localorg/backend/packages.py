"""Managed packages an org reports installed: `Package(namespace, version, source)`.

The local org cannot run a package's code; it installs the package's schema (the custom objects
and fields of `source`, a source-format folder with objects/) and reports the package and
version as installed (Tooling's InstalledSubscriberPackage, the Metadata API's InstalledPackage).
"""

import re
from dataclasses import dataclass
from pathlib import Path

VERSION_RE = re.compile(r"^\d+\.\d+(\.\d+)?(b\d+)?$")


@dataclass(frozen=True)
class Package:
    """`source` None: the source this org already installed for the namespace (an upgrade)."""

    namespace: str
    version: str
    source: Path | str | None = None
    name: str | None = None

    def __post_init__(self):
        if not re.match(r"^[A-Za-z][A-Za-z0-9]*$", self.namespace or ""):
            raise ValueError(f"package namespace {self.namespace!r}: letters and digits, "
                             "starting with a letter")
        if not VERSION_RE.match(str(self.version)):
            raise ValueError(f"package {self.namespace} version {self.version!r}: use "
                             "MAJOR.MINOR[.PATCH][bBETA], e.g. 2.5 or 2.6b1")
