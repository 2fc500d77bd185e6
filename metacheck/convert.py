"""Convert the project's source with ``sf project convert source`` and check package.xml.

One ``sf`` call converts every package directory of ``sfdx-project.json`` plus the Calendly
stand-in (``unpackaged/standin/calendly``): ``--source-dir`` accepts folders outside
``packageDirectories`` (checked with sf 2.150.6). The check then requires package.xml to
list the project's contract components and every component found in the source tree, so
a file sf silently leaves out (matched by .forceignore, misplaced) fails the check.

sf runs with no org and no network: telemetry and autoupdate off, and HOME pointed at a
throw-away folder so neither the user's sf config nor its cache is read or written. Both
``SF_AUTOUPDATE_DISABLE`` and ``SF_DISABLE_AUTOUPDATE`` are set: sf 2.150.6 reads the
first, but the oclif update hook that spawns ``sf update --autoupdate`` reads only the
second (``@oclif/plugin-update/dist/hooks/init.js``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from metacheck import cache
from metacheck.findings import ERROR, Finding

CHECK = "convert"
MD_NS = "http://soap.sforce.com/2006/04/metadata"
STANDIN_DIRS = ("unpackaged/standin/calendly",)
# The components this project exists to ship (docs/design.md sections 1-3).
REQUIRED_MEMBERS = {
    "Flow": ("CreateEventTemplate", "Create_Event_Template",
             "Create_Event_Participant_Template"),
    "Layout": ("Event-Event Layout",),
    "CustomObject": ("Calendly__CalendlyAction__c",),
}
SF_ENV = {
    "SF_DISABLE_TELEMETRY": "true",
    "SF_AUTOUPDATE_DISABLE": "true",
    "SF_DISABLE_AUTOUPDATE": "true",
    "SF_USE_PROGRESS_BAR": "false",
    "SF_SKIP_NEW_VERSION_CHECK": "true",
}


@dataclass
class ConvertReport:
    source_dirs: list[str]
    output_dir: str
    members: dict[str, list[str]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def find_sf(project_dir: Path) -> str | None:
    local = project_dir / "node_modules" / ".bin" / "sf"
    return str(local) if local.exists() else shutil.which("sf")


def source_dirs(project_dir: Path) -> list[Path]:
    """Package directories from sfdx-project.json, then the stand-in bundle."""
    config = json.loads((project_dir / "sfdx-project.json").read_text())
    dirs = [project_dir / d["path"] for d in config.get("packageDirectories", [])]
    return dirs + [project_dir / d for d in STANDIN_DIRS if (project_dir / d).is_dir()]


def convert(project_dir: Path, output_dir: Path, timeout: int = 300) -> ConvertReport:
    """Convert into ``output_dir`` (replaced if it exists) and check its package.xml."""
    project_dir = project_dir.resolve()
    sfdx = project_dir / "sfdx-project.json"
    if not sfdx.is_file():
        return _failed(project_dir, "", f"{sfdx} not found; run from the project root "
                       "or pass --project-dir")
    dirs = source_dirs(project_dir)
    out = output_dir
    report = ConvertReport([str(d.relative_to(project_dir)) for d in dirs], str(out))
    missing = [d for d in dirs if not d.is_dir()]
    if missing:
        report.findings.append(_error(sfdx, f"package directory {missing[0]} does not exist"))
        return report
    sf = find_sf(project_dir)
    if not sf:
        report.findings.append(_error(sfdx, "sf CLI not found (node_modules/.bin/sf or PATH); "
                                      "run `make setup`"))
        return report
    if out.exists():
        shutil.rmtree(out)  # sf refuses to write into a non-empty output dir
    out.parent.mkdir(parents=True, exist_ok=True)
    with cache.entry(_cache_key(project_dir, sf, dirs)) as kept:
        if kept and kept.is_dir():
            shutil.copytree(kept, out)
        elif not _run_sf(sf, project_dir, dirs, out, timeout, report):
            return report
        elif kept:
            partial = Path(tempfile.mkdtemp(dir=kept.parent))
            shutil.copytree(out, partial, dirs_exist_ok=True)
            partial.rename(kept)
    _check_manifest(project_dir, dirs, out, report)
    return report


def _cache_key(project_dir: Path, sf: str, dirs: list[Path]) -> str | None:
    """The conversion's key in metacheck.cache: sf's arguments, every source file and the
    project files sf reads; None (not kept) for an sf from PATH."""
    if Path(sf) != project_dir / "node_modules" / ".bin" / "sf":
        return None
    files = [project_dir / "sfdx-project.json", project_dir / ".forceignore"]
    return cache.key(project_dir, ["project convert source",
                                   *(str(d.relative_to(project_dir)) for d in dirs)],
                     files + [f for d in dirs for f in cache.tree(d)])


def _run_sf(sf: str, project_dir: Path, dirs: list[Path], out: Path, timeout: int,
            report: ConvertReport) -> bool:
    """sf project convert source into ``out``; False, with the error in ``report``, when it
    fails."""
    sfdx = project_dir / "sfdx-project.json"
    cmd = [sf, "project", "convert", "source", "--output-dir", str(out), "--json"]
    for d in dirs:
        cmd += ["--source-dir", str(d.relative_to(project_dir))]
    with tempfile.TemporaryDirectory(prefix="metacheck-sf-home-") as home:
        env = {**os.environ, **SF_ENV, "HOME": home, "XDG_CONFIG_HOME": f"{home}/.config",
               "XDG_CACHE_HOME": f"{home}/.cache", "XDG_DATA_HOME": f"{home}/.local/share"}
        node_bin = project_dir / "node_modules" / ".bin"
        env["PATH"] = f"{node_bin}{os.pathsep}{env.get('PATH', '')}"  # sf needs Node 22
        try:
            proc = subprocess.run(cmd, cwd=project_dir, env=env, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            report.findings.append(_error(sfdx, f"sf project convert source did not finish "
                                          f"in {timeout} s"))
            return False
    result = _sf_json(proc.stdout)
    if proc.returncode != 0 or result.get("status") != 0:
        why = result.get("message") or proc.stderr.strip()[-1500:] or proc.stdout[-1500:]
        report.findings.append(_error(sfdx, f"sf project convert source failed "
                                      f"(exit {proc.returncode}): {why}"))
        return False
    return True


def _check_manifest(project_dir: Path, dirs: list[Path], out: Path,
                    report: ConvertReport) -> None:
    manifest = out / "package.xml"
    if not manifest.is_file():
        report.findings.append(_error(manifest, "sf reported success but wrote no package.xml"))
        return
    root = etree.parse(str(manifest)).getroot()
    ns = {"md": MD_NS}
    for types in root.iterfind("md:types", ns):
        name = types.findtext("md:name", namespaces=ns)
        report.members[name] = [m.text for m in types.iterfind("md:members", ns)]
    wanted = {(t, m) for t, names in REQUIRED_MEMBERS.items() for m in names}
    wanted |= set(_source_components(dirs))
    for mtype, member in sorted(wanted):
        if member not in report.members.get(mtype, []):
            origin = ("a component this project must ship" if member in
                      REQUIRED_MEMBERS.get(mtype, ()) else "found in the source tree")
            report.findings.append(Finding(
                CHECK, ERROR, str(manifest),
                f"package.xml does not list {mtype} '{member}' ({origin})",
                element=f"{mtype}:{member}", rule="missing-member"))


def _source_components(dirs: list[Path]):
    """(type, member) for each flow, layout, object and field file in source format."""
    for d in dirs:
        for f in d.rglob("*.flow-meta.xml"):
            yield "Flow", f.name.removesuffix(".flow-meta.xml")
        for f in d.rglob("*.layout-meta.xml"):
            yield "Layout", f.name.removesuffix(".layout-meta.xml")
        for f in d.rglob("*.object-meta.xml"):
            yield "CustomObject", f.name.removesuffix(".object-meta.xml")
        for f in d.rglob("*.field-meta.xml"):
            obj = f.parent.parent.name  # objects/<Object>/fields/<Field>.field-meta.xml
            yield "CustomField", f"{obj}.{f.name.removesuffix('.field-meta.xml')}"


def _sf_json(stdout: str) -> dict:
    try:
        return json.loads(stdout[stdout.index("{"):])
    except ValueError:
        return {}


def _error(path: Path, message: str) -> Finding:
    return Finding(CHECK, ERROR, str(path), message, rule="convert")


def _failed(project_dir: Path, out: str, message: str) -> ConvertReport:
    report = ConvertReport([], out)
    report.findings.append(_error(project_dir, message))
    return report
