"""metacheck/cache.py: a Node tool's result is served only for the same command, files, script
and installed packages; any change runs the tool again, a failure is never kept, and without
METACHECK_CACHE nothing is kept."""

import os
import shutil
from pathlib import Path

import pytest

from metacheck import cache, convert, node

ROOT = Path(__file__).resolve().parents[1]
# Counts its runs in runs.txt beside it and echoes its first argument file's text.
SCRIPT = """import { appendFileSync, readFileSync } from "node:fs";
appendFileSync(new URL("runs.txt", import.meta.url), "x");
const runs = readFileSync(new URL("runs.txt", import.meta.url), "utf8").length;
const text = readFileSync(process.argv[2], "utf8");
const out = text === "fail" ? { error: "told to fail" } : { runs, text };
process.stdout.write(JSON.stringify(out) + "\\n");
if (text === "crash") throw new Error("broke after printing");
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project with the checkout's Node, a package list and a counting script."""
    monkeypatch.setenv(cache.ENV, str(tmp_path / "cache"))
    (tmp_path / "node_modules" / ".bin").mkdir(parents=True)
    (tmp_path / "node_modules" / ".bin" / "node").symlink_to(
        shutil.which("node", path=str(ROOT / "node_modules" / ".bin")))
    (tmp_path / cache.INSTALLED).write_text('{"packages": {"node": "22"}}')
    (tmp_path / "tool.mjs").write_text(SCRIPT)
    (tmp_path / "input.txt").write_text("one")
    return tmp_path


def run(project, name="input.txt"):
    return node.run_json(project / "tool.mjs", [name], project, 60, "the tool", "tool")


def test_a_kept_result_is_served_only_for_the_same_inputs(project):
    assert run(project) == {"runs": 1, "text": "one"}
    assert run(project) == {"runs": 1, "text": "one"}  # kept
    (project / "input.txt").write_text("two")
    assert run(project) == {"runs": 2, "text": "two"}
    (project / cache.INSTALLED).write_text('{"packages": {"node": "24"}}')
    assert run(project) == {"runs": 3, "text": "two"}
    (project / "tool.mjs").write_text(SCRIPT + "\n")
    assert run(project) == {"runs": 4, "text": "two"}
    (project / "other.txt").write_text("two")
    assert run(project, "other.txt") == {"runs": 5, "text": "two"}  # another argument
    assert run(project) == {"runs": 4, "text": "two"}


def test_a_failure_is_not_kept_and_without_the_variable_nothing_is(project, monkeypatch):
    (project / "input.txt").write_text("fail")
    for _ in range(2):
        with pytest.raises(node.NodeToolUnavailable, match="told to fail"):
            run(project)
    assert len((project / "runs.txt").read_text()) == 2
    (project / "input.txt").write_text("one")
    monkeypatch.delenv(cache.ENV)
    assert [run(project)["runs"] for _ in range(2)] == [3, 4]
    os.remove(project / cache.INSTALLED)  # no package list: nothing to key the tool on
    monkeypatch.setenv(cache.ENV, str(project / "cache"))
    assert [run(project)["runs"] for _ in range(2)] == [5, 6]


def test_a_tool_that_fails_after_printing_a_result_is_an_error_never_kept(project):
    (project / "input.txt").write_text("crash")
    for _ in range(2):
        with pytest.raises(node.NodeToolUnavailable, match=r"the tool failed \(exit 1\)"):
            run(project)
    assert len((project / "runs.txt").read_text()) == 2


def test_a_conversion_is_keyed_by_every_file_sf_reads(tmp_path):
    """Without running sf: the key changes with each source file, sfdx-project.json and
    .forceignore, and there is none for an sf found on PATH."""
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "sfdx-project.json", copy)
    for d in ("force-app", "flows", "force-app-tests", "unpackaged/standin"):
        shutil.copytree(ROOT / d, copy / d)
    (copy / "node_modules" / ".bin").mkdir(parents=True)
    shutil.copy(ROOT / cache.INSTALLED, copy / cache.INSTALLED)
    sf = str(copy / "node_modules" / ".bin" / "sf")
    dirs = convert.source_dirs(copy)

    def key():
        return convert._cache_key(copy, sf, dirs)

    seen = {key()}
    flow = copy / "flows" / "Create_Event_Template.flow-meta.xml"
    for path in (flow, copy / "sfdx-project.json", copy / ".forceignore",
                 copy / "unpackaged" / "standin" / "calendly" / "README"):
        path.write_text((path.read_text() if path.is_file() else "") + "\n")
        seen.add(key())
    assert len(seen) == 5 and None not in seen
    assert convert._cache_key(copy, "/usr/local/bin/sf", dirs) is None
