"""Parse Apex (.cls, .trigger) with the Apex parser of the ecosystem, offline.

``@apexdevtools/apex-parser`` (the ANTLR grammar Apex Dev Tools and PMD's Apex module build on)
is a Node library, so ``parse_apex.mjs`` next to this file parses every file in one Node process
and prints JSON; this module turns its syntax errors into findings (file, line, rule
``apex-syntax``). It checks syntax only: types, fields and SOQL against an org are the
compiler's job on a real org (the check-only deploy of ``calendly_setup``'s validate mode).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from metacheck.findings import ERROR, Finding
from metacheck.scanner import find_node

CHECK = "apex"
RULE = "apex-syntax"
SCRIPT = Path(__file__).with_name("parse_apex.mjs")
SUFFIXES = (".cls", ".trigger")
MESSAGE_CHARS = 200  # ANTLR lists every token it expected; the start says enough


class ParserUnavailable(Exception):
    """Node or the parser package is missing or broke; the message says what to do."""


def parse(files: list[Path], project_dir: Path, timeout: int = 300) -> tuple[str, list[Finding]]:
    """(parser version, findings) for ``files``; an empty list parses nothing."""
    if not files:
        return "", []
    try:
        node = find_node(project_dir)
    except Exception as exc:  # scanner.ScannerUnavailable: same remedy
        raise ParserUnavailable(str(exc)) from None
    cmd = [node, str(SCRIPT), *map(str, files)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              cwd=project_dir, env={**os.environ, "NODE_NO_WARNINGS": "1"})
    except subprocess.TimeoutExpired:
        raise ParserUnavailable(f"the Apex parser did not finish in {timeout} s") from None
    try:
        payload = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise ParserUnavailable(
            f"the Apex parser failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}; "
            "is @apexdevtools/apex-parser installed? run `make setup`") from None
    if "error" in payload:
        raise ParserUnavailable(payload["error"])
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
