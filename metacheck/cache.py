"""Results of metacheck's Node tools kept for the same inputs, when METACHECK_CACHE names a folder.

sf's conversion and the Apex parser cost about 1.2 s of Node each, for a result that depends
only on what they read: the files given to them, the project files sf reads (sfdx-project.json,
.forceignore), the script, and the Node packages installed from package-lock.json (sf, the
parser, Flow Scanner, Node itself), which npm records in ``node_modules/.package-lock.json``.
A key over all of these (names and bytes) finds a kept result only for the same inputs; a
change to any of them runs the tool again. Only successful runs are kept, and only with the
project's own ``node_modules`` (a tool found on PATH has no version here to key on). Off
unless ``METACHECK_CACHE`` is set; the test suite sets it for its run, since several tests
check the same project.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from contextlib import contextmanager
from pathlib import Path

ENV = "METACHECK_CACHE"
INSTALLED = Path("node_modules") / ".package-lock.json"


def key(project_dir: Path, words: list[str], files: list[Path]) -> str | None:
    """A digest of the installed Node packages, ``words`` (arguments, names) and ``files``
    (each one's name, within the project when it is there, and bytes; a missing one as
    missing); None when the project has no node_modules of its own."""
    installed = project_dir / INSTALLED
    if not installed.is_file():
        return None
    digest = hashlib.sha256(installed.read_bytes())
    for word in words:
        digest.update(f"\0{len(word)}\0{word}".encode())
    for path in files:
        name = path.relative_to(project_dir) if path.is_relative_to(project_dir) else path
        data = path.read_bytes() if path.is_file() else None
        digest.update(f"\0{name}\0{-1 if data is None else len(data)}\0".encode()
                      + (data or b""))
    return digest.hexdigest()


def tree(folder: Path) -> list[Path]:
    """Every file under ``folder``, in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.is_file())


@contextmanager
def entry(name: str | None):
    """The cache path for key ``name`` (None: caching off), held so that another process
    asking for the same key waits for this one's result instead of running the tool too."""
    folder = os.environ.get(ENV)
    if not folder or name is None:
        yield None
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = Path(folder) / name
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield path
