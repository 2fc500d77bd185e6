"""Lint flows with Lightning Flow Scanner (``@flow-scanner/lightning-flow-scanner-core``).

The scanner is a Node library with no Python binding, so ``scan_flows.mjs`` (next to this
file) runs it offline in one Node process for all flows and prints JSON; this module turns
that into findings. The rules and their severities come from the committed config
``.flow-scanner.json`` at the project root (the file name the Flow Scanner CLI and IDE
extensions also read). Line numbers are looked up in the original file: the scanner's own
come from its re-serialised XML and can differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from metacheck.findings import ERROR, Finding
from metacheck.node import NodeToolUnavailable, run_json

CHECK = "flow-scanner"
SCRIPT = Path(__file__).with_name("scan_flows.mjs")
CONFIG_NAME = ".flow-scanner.json"
MD_NS = "http://soap.sforce.com/2006/04/metadata"


class ScannerUnavailable(NodeToolUnavailable):
    """Node or the scanner package is missing or broke; the message says what to do."""


@dataclass
class ScanReport:
    scanner_version: str
    rules: list[str]
    flows: list[dict] = field(default_factory=list)  # file, name, type, findings
    findings: list[Finding] = field(default_factory=list)


def scan(flow_files: list[Path], project_dir: Path, config: Path | None = None,
         advisory: set[Path] = frozenset(), timeout: int = 300) -> ScanReport:
    """Scan ``flow_files``; findings on files in ``advisory`` are reported, not gating."""
    config = config or project_dir / CONFIG_NAME
    if not config.is_file():
        raise ScannerUnavailable(f"Flow Scanner rules config {config} not found")
    if not flow_files:
        return ScanReport("", _rule_names(config))
    payload = run_json(SCRIPT, [config, *flow_files], project_dir, timeout, "Flow Scanner",
                       "@flow-scanner/lightning-flow-scanner-core", ScannerUnavailable)
    report = ScanReport(payload["scanner"], payload["rules"])
    advisory_resolved = {p.resolve() for p in advisory}
    for flow in payload["flows"]:
        path = Path(flow["file"])
        gating = path.resolve() not in advisory_resolved
        found = _flow_findings(flow, path, gating)
        report.flows.append({"file": str(path), "name": flow["name"], "type": flow["type"],
                             "gating": gating, "findings": found})
        report.findings.extend(found)
    return report


def _rule_names(config: Path) -> list[str]:
    return list(json.loads(config.read_text()).get("rules", {}))


def _flow_findings(flow: dict, path: Path, gating: bool) -> list[Finding]:
    if flow["parseError"]:
        return [Finding(CHECK, ERROR, str(path), f"Flow Scanner cannot read this flow: "
                        f"{flow['parseError']}", rule="parse", gating=gating)]
    lines = _element_lines(path)
    found = []
    for result in flow["results"]:
        if result["error"]:
            found.append(Finding(CHECK, ERROR, str(path), result["error"],
                                 rule=result["rule"], gating=gating))
        for v in result["violations"]:
            if v["metaType"] == "attribute":
                value = v.get("name")
                what = (f"flow setting <{v['type']}> is {value}" if value
                        else f"flow setting <{v['type']}> is missing")
                line = lines.get(("attr", v["type"]))
            else:
                what = f"{v['type']} '{v['name']}'"
                line = lines.get(("name", v["name"]))
            found.append(Finding(CHECK, result["severity"], str(path),
                                 f"{result['label']}: {what}", line=line,
                                 element=v.get("name") or v["type"], rule=result["rule"],
                                 gating=gating))
    return found


def _element_lines(path: Path) -> dict[tuple[str, str], int]:
    """Line of each flow element (by its <name>) and of each top-level setting."""
    try:
        root = etree.parse(str(path)).getroot()
    except (OSError, etree.XMLSyntaxError):
        return {}
    lines = {}
    for child in root:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        lines.setdefault(("attr", local), child.sourceline)
        name = child.findtext(f"{{{MD_NS}}}name")
        if name:
            lines.setdefault(("name", name.strip()), child.sourceline)
    return lines
