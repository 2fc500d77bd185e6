"""Plain-text rendering of a metacheck run (the JSON form is the same dict, dumped)."""

from __future__ import annotations

from itertools import groupby

MARK = {"error": "ERROR  ", "warning": "WARNING", "note": "NOTE   "}


def render(result: dict) -> str:
    lines = []
    for name, section in result["checks"].items():
        lines += _SECTIONS[name](section)
        lines.append("")
    verdict = "PASSED" if result["ok"] else "FAILED"
    lines.append(f"metacheck {verdict}: {result['errors']} error(s), "
                 f"{result['warnings']} warning(s), {result['advisory']} advisory finding(s)")
    return "\n".join(lines)


def _finding(f: dict, indent: str = "  ") -> str:
    where = f"{f['file']}:{f['line']}" if f["line"] else f["file"]
    element = f" <{f['element']}>" if f["element"] else ""
    rule = f" [{f['rule']}]" if f["rule"] else ""
    advisory = " (advisory)" if not f["gating"] else ""
    return f"{indent}{MARK.get(f['severity'], f['severity'])} {where}{element}: " \
           f"{f['message']}{rule}{advisory}"


def _header(title: str, section: dict, summary: str) -> str:
    status = "ok" if section["ok"] else "FAILED"
    return f"[{title}] {status} - {summary} ({section['seconds']:.2f} s)"


def _schema(section: dict) -> list[str]:
    found = section["findings"]
    lines = [_header("schema", section, f"{len(section['files'])} file(s) against the "
                     f"Metadata API schema: {_count(found)}")]
    return lines + [_finding(f) for f in found]


def _scanner(section: dict) -> list[str]:
    flows = section["flows"]
    rules = ", ".join(section.get("rules", []))
    version = section.get("scanner_version") or "not run"
    lines = [_header("flow-scanner", section, f"{len(flows)} flow(s), Lightning Flow Scanner "
                     f"{version}: {_count(section['findings'])}")]
    if rules:
        lines.append(f"  rules: {rules}")
    if not flows:
        lines += [_finding(f) for f in section["findings"]]
    for flow in flows:
        tag = "" if flow["gating"] else " (corpus: advisory)"
        lines.append(f"  {flow['file']} ({flow['type']}){tag}: {_count(flow['findings'])}")
        for rule, items in groupby(flow["findings"], key=lambda f: f["rule"]):
            items = list(items)
            lines.append(f"    {rule} ({items[0]['severity']}):")
            for f in items:
                at = f" line {f['line']}" if f["line"] else ""
                lines.append(f"      {f['element'] or '-'}{at}: {f['message']}")
    return lines


def _apex(section: dict) -> list[str]:
    version = section.get("parser_version") or "not run"
    lines = [_header("apex", section, f"{len(section['files'])} file(s), "
                     f"@apexdevtools/apex-parser {version}: {_count(section['findings'])}")]
    return lines + [_finding(f) for f in section["findings"]]


def _convert(section: dict) -> list[str]:
    members = section["members"]
    listed = ", ".join(f"{len(v)} {k}" for k, v in sorted(members.items())) or "nothing"
    lines = [_header("convert", section, f"sf project convert source "
                     f"({', '.join(section['source_dirs'])}); package.xml lists {listed}")]
    return lines + [_finding(f) for f in section["findings"]]


def _count(findings: list[dict]) -> str:
    errors = sum(f["severity"] == "error" and f["gating"] for f in findings)
    advisory = sum(not f["gating"] for f in findings)
    text = f"{errors} error(s), {len(findings) - errors - advisory} warning(s)"
    return text + (f", {advisory} advisory" if advisory else "")


_SECTIONS = {"schema": _schema, "flow-scanner": _scanner, "apex": _apex, "convert": _convert}
