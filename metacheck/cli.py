"""``python -m metacheck``: schema, Flow Scanner, Apex parser and sf convert checks in one command.

Usage::

    python -m metacheck                      # the project: flows/, force-app*/, unpackaged/
    python -m metacheck flows/X.flow-meta.xml --checks schema,flow-scanner
    python -m metacheck --corpus ../shared/corpus/flows --json

PATHS (files or folders) get every selected check and gate the exit code. ``--corpus``
paths get the schema check (gating) and the Flow Scanner as advice only: other teams'
flows are test input, not this project's to fix. The convert check always converts the
whole project. Exit status: 0 all gating checks passed, 1 a check failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from metacheck import apex, convert, report, scanner, schema
from metacheck.findings import ERROR, Finding, failed

CHECKS = ("schema", "flow-scanner", "apex", "convert")
PROJECT_SOURCE_DIRS = ("flows", "force-app", "force-app-tests", "unpackaged")
FLOW_SUFFIXES = (".flow-meta.xml", ".flow")
DESCRIPTION = ("Check Salesforce metadata: Metadata API schema, Lightning Flow Scanner, "
               "Apex parser, sf project convert source.")


class UsageError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        checks = _checks(args.checks)
        project_dir = _project_dir(args.project_dir)
        own = _collect(args.paths or [project_dir / d for d in PROJECT_SOURCE_DIRS
                                      if (project_dir / d).is_dir()], explicit=bool(args.paths))
        corpus = _collect(args.corpus, explicit=True)
    except UsageError as exc:
        print(f"metacheck: {exc}", file=sys.stderr)
        return 2
    result = run(checks, project_dir, own, corpus, args.build_dir, args.scanner_config)
    print(json.dumps(result, indent=2) if args.json else report.render(result))
    return 0 if result["ok"] else 1


def run(checks: list[str], project_dir: Path, own: list[Path], corpus: list[Path],
        build_dir: Path | None = None, scanner_config: Path | None = None) -> dict:
    """Run the selected checks; return the report as a JSON-ready dict."""
    sections = {}
    apex_files = [p for p in own if p.name.endswith(apex.SUFFIXES)]
    own = [p for p in own if p not in apex_files]
    if "schema" in checks:
        sections["schema"] = _timed(lambda: _schema_section(own + corpus, project_dir))
    if "flow-scanner" in checks:
        flows = [p for p in own + corpus if p.name.endswith(FLOW_SUFFIXES)]
        sections["flow-scanner"] = _timed(
            lambda: _scanner_section(flows, project_dir, set(corpus), scanner_config))
    if "apex" in checks:
        sections["apex"] = _timed(lambda: _apex_section(apex_files, project_dir))
    if "convert" in checks:
        out = build_dir / "mdapi" if build_dir else None
        sections["convert"] = _timed(lambda: _convert_section(project_dir, out))
    findings = [f for s in sections.values() for f in s["findings"]]
    for section in sections.values():
        section["ok"] = not failed(section["findings"])
        section["findings"] = [f.as_dict() for f in section["findings"]]
        for flow in section.get("flows", []):
            flow["findings"] = [f.as_dict() for f in flow["findings"]]
    return {
        "ok": not failed(findings),
        "schema_api_version": schema.SCHEMA_API_VERSION,
        "errors": sum(f.severity == ERROR and f.gating for f in findings),
        "warnings": sum(f.severity != ERROR and f.gating for f in findings),
        "advisory": sum(not f.gating for f in findings),
        "checks": sections,
    }


def _schema_section(files: list[Path], project_dir: Path) -> dict:
    findings = []
    for path in files:
        findings += schema.validate(path, filename=_show(path, project_dir))
    return {"files": [_show(p, project_dir) for p in files], "findings": findings}


def _scanner_section(flows: list[Path], project_dir: Path, corpus: set[Path],
                     config: Path | None) -> dict:
    absolute = [p.resolve() for p in flows]  # node runs in the project dir
    try:
        result = scanner.scan(absolute, project_dir, config, {p.resolve() for p in corpus})
    except scanner.ScannerUnavailable as exc:
        return {"flows": [], "findings": [Finding(scanner.CHECK, ERROR, str(project_dir),
                                                  str(exc), rule="scanner")]}
    findings = []
    for flow in result.flows:
        flow["file"] = _show(Path(flow["file"]), project_dir)
        flow["findings"] = [_relabel(f, project_dir) for f in flow["findings"]]
        findings += flow["findings"]
    return {"scanner_version": result.scanner_version, "rules": result.rules,
            "flows": result.flows, "findings": findings}


def _apex_section(files: list[Path], project_dir: Path) -> dict:
    try:
        version, findings = apex.parse([p.resolve() for p in files], project_dir)
    except apex.ParserUnavailable as exc:
        return {"files": [], "findings": [Finding(apex.CHECK, ERROR, str(project_dir), str(exc),
                                                  rule="parser")]}
    return {"parser_version": version, "files": [_show(p, project_dir) for p in files],
            "findings": [_relabel(f, project_dir) for f in findings]}


def _convert_section(project_dir: Path, output_dir: Path | None) -> dict:
    if output_dir is None:
        with tempfile.TemporaryDirectory(prefix="metacheck-convert-") as tmp:
            section = _convert_section(project_dir, Path(tmp) / "mdapi")
        section["output_dir"] = None  # removed; pass --build-dir to keep it
        return section
    result = convert.convert(project_dir, output_dir)
    return {"source_dirs": result.source_dirs, "output_dir": result.output_dir,
            "members": result.members, "findings": result.findings}


def _timed(section) -> dict:
    start = time.perf_counter()
    result = section()
    result["seconds"] = round(time.perf_counter() - start, 3)
    return result


def _relabel(finding: Finding, project_dir: Path) -> Finding:
    shown = _show(Path(finding.file), project_dir)
    return Finding(**{**finding.as_dict(), "file": shown})


def _show(path: Path, project_dir: Path) -> str:
    """Project-relative path when inside the project, else as given."""
    try:
        return str(path.resolve().relative_to(project_dir))
    except ValueError:
        return str(path)


def _collect(paths: list, explicit: bool) -> list[Path]:
    """Files to check: named files as they are, folders searched for metadata files."""
    files = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += sorted(p for p in path.rglob("*")
                            if p.name.endswith(schema.SOURCE_SUFFIXES + apex.SUFFIXES))
        elif explicit:
            raise UsageError(f"{path} does not exist")
    return files


def _checks(raw: str) -> list[str]:
    chosen = [c.strip() for c in raw.split(",") if c.strip()]
    unknown = [c for c in chosen if c not in CHECKS]
    if unknown or not chosen:
        raise UsageError(f"unknown check {unknown or raw!r}; choose from {', '.join(CHECKS)}")
    return chosen


def _project_dir(given: Path | None) -> Path:
    if given:
        if not (given / "sfdx-project.json").is_file():
            raise UsageError(f"{given} has no sfdx-project.json; pass the project root")
        return given.resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "sfdx-project.json").is_file():
            return candidate
    raise UsageError("no sfdx-project.json in this folder or above; pass --project-dir")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m metacheck", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", help="files or folders (default: the project's "
                   + ", ".join(PROJECT_SOURCE_DIRS) + ")")
    p.add_argument("--corpus", action="append", default=[], metavar="PATH",
                   help="others' flows: schema-checked, Flow Scanner findings advisory")
    p.add_argument("--checks", default=",".join(CHECKS),
                   help=f"comma-separated subset of {','.join(CHECKS)} (default: all)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--project-dir", type=Path, help="project root (default: found from cwd)")
    p.add_argument("--build-dir", type=Path,
                   help="keep sf's converted output in BUILD_DIR/mdapi (default: a temp dir)")
    p.add_argument("--scanner-config", type=Path,
                   help=f"Flow Scanner rules (default: PROJECT/{scanner.CONFIG_NAME})")
    return p
