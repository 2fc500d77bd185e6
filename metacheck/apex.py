"""Parse Apex (.cls, .trigger) with the Apex parser of the ecosystem, offline.

``@apexdevtools/apex-parser`` (the ANTLR grammar Apex Dev Tools and PMD's Apex module build on)
is a Node library, so ``parse_apex.mjs`` next to this file parses every file in one Node process
and prints JSON; this module turns its syntax errors into findings (file, line, rule
``apex-syntax``). It checks syntax only: types, fields and SOQL against an org are the
compiler's job on a real org (the check-only deploy of ``calendly_setup``'s validate mode).
"""

from __future__ import annotations

from pathlib import Path

from metacheck.findings import ERROR, Finding
from metacheck.node import NodeToolUnavailable, run_json

CHECK = "apex"
RULE = "apex-syntax"
SCRIPT = Path(__file__).with_name("parse_apex.mjs")
SUFFIXES = (".cls", ".trigger")
MESSAGE_CHARS = 200  # ANTLR lists every token it expected; the start says enough


class ParserUnavailable(NodeToolUnavailable):
    """Node or the parser package is missing or broke; the message says what to do."""


def parse(files: list[Path], project_dir: Path, timeout: int = 300) -> tuple[str, list[Finding]]:
    """(parser version, findings) for ``files``; an empty list parses nothing."""
    if not files:
        return "", []
    payload = run_json(SCRIPT, files, project_dir, timeout, "the Apex parser",
                       "@apexdevtools/apex-parser", ParserUnavailable)
    findings = []
    for entry in payload["files"]:
        for err in entry["errors"]:
            message = err["message"]
            if len(message) > MESSAGE_CHARS:
                message = message[:MESSAGE_CHARS] + "…"
            findings.append(Finding(CHECK, ERROR, entry["file"],
                                    f"column {err['column']}: {message}", line=err["line"],
                                    rule=RULE))
    return payload["parser"], findings
