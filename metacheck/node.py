"""Run one of metacheck's Node scripts (Flow Scanner, the Apex parser) and read its JSON.

Both tools are Node libraries with no Python binding: a script next to the calling module
runs the tool over every file in one Node process and prints one JSON line last.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path


class NodeToolUnavailable(Exception):
    """Node or the tool's package is missing or broke; the message says what to do."""


def find_node(project_dir: Path, error: type[Exception] = NodeToolUnavailable) -> str:
    local = project_dir / "node_modules" / ".bin" / "node"
    if local.exists():
        return str(local)
    found = shutil.which("node")
    if not found:
        raise error("Node.js not found (node_modules/.bin/node or PATH); run `make setup`")
    return found


def run_json(script: Path, args: list, project_dir: Path, timeout: int, tool: str,
             package: str, error: type[Exception] = NodeToolUnavailable) -> dict:
    """The JSON the script printed last; ``error`` (naming ``tool`` and the ``package`` to
    install) when Node is missing, the script times out, prints no JSON or reports an error."""
    cmd = [find_node(project_dir, error), str(script), *map(str, args)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              cwd=project_dir, env={**os.environ, "NODE_NO_WARNINGS": "1"})
    except subprocess.TimeoutExpired:
        raise error(f"{tool} did not finish in {timeout} s") from None
    try:
        payload = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise error(
            f"{tool} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}; "
            f"is {package} installed? run `make setup`") from None
    if "error" in payload:
        raise error(payload["error"])
    return payload
