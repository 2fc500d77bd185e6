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

from metacheck import cache


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
    with cache.entry(_cache_key(project_dir, cmd)) as kept:
        if kept and kept.is_file():
            return json.loads(kept.read_text())
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
        if proc.returncode != 0:
            raise error(f"{tool} failed (exit {proc.returncode}) after printing its result: "
                        f"{proc.stderr.strip()[-2000:]}")
        if kept:
            partial = kept.with_suffix(".partial")
            partial.write_text(json.dumps(payload))
            partial.rename(kept)
        return payload


def _cache_key(project_dir: Path, cmd: list[str]) -> str | None:
    """The run's key in metacheck.cache: the command line, the script and every file it
    names (relative names are in ``project_dir``, where node runs); None (not kept) for a
    Node from PATH."""
    if Path(cmd[0]) != project_dir / "node_modules" / ".bin" / "node":
        return None
    return cache.key(project_dir, cmd[1:], [project_dir / arg for arg in cmd[1:]])
