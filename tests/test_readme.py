"""The README's commands run as written: every shell block is marked, and each runnable one
passes in a new shell (plain PATH, nothing exported) against a fresh local org in a temporary
home, after the `python -m localorg` commands of the runnable blocks before it (the org they
start and register, which a later block may count on; their cci commands are their own
block's test). Each block is a test of its own, so pytest-xdist runs them side by side.

A block is marked by an HTML comment on the line before its fence:
    <!-- readme-test: run -->                  run by this test
    <!-- readme-test: skip, <why> -->          not run offline, with the reason
"""

import re
import subprocess
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = re.compile(r"^\s*<!-- readme-test: (?:(run)|skip, (\S.*?)) -->\s*$")
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
SHELL = {"", "sh", "shell", "bash", "console"}  # "text", "yaml": not commands
PLAIN_PATH = "/usr/bin:/bin"


@dataclass
class Block:
    line: int  # of the opening fence, 1-based
    info: str
    code: str
    marker: str | None  # "run", "skip" or None
    reason: str | None


def blocks(text: str) -> list:
    lines = text.splitlines()
    found, index = [], 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, info = opening.groups()
        end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == "```")
        code = "\n".join(line[len(indent):] for line in lines[index + 1:end])
        marker = MARKER.match(lines[index - 1]) if index else None
        found.append(Block(index + 1, info, code + "\n",
                           ("run" if marker.group(1) else "skip") if marker else None,
                           marker.group(2) if marker else None))
        index = end + 1
    return found


def run_block(block: Block, env: dict) -> subprocess.CompletedProcess:
    """The block as one bash script that stops at its first failing command."""
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-x", "-c", block.code], cwd=ROOT,
                          env=env, text=True, capture_output=True, timeout=1200)


def test_every_shell_block_is_marked_run_or_skip_with_a_reason():
    unmarked = [f"README.md:{b.line}" for b in blocks(README.read_text())
                if b.info in SHELL and b.marker is None]
    assert not unmarked, (
        f"shell blocks without a marker: {unmarked}. Put `<!-- readme-test: run -->` on the "
        "line before the fence, or `<!-- readme-test: skip, <why it cannot run offline> -->`.")
    runnable = [b for b in blocks(README.read_text()) if b.marker == "run"]
    assert runnable, "no README block is marked runnable"


def test_the_parser_reads_markers_and_a_failing_block_fails(tmp_path):
    sample = ("<!-- readme-test: run -->\n```\ntrue\nfalse\necho never\n```\n\n"
              "  <!-- readme-test: skip, needs a real org -->\n  ```\n  cci org connect x\n  ```\n"
              "```text\ntree\n```\n")
    parsed = blocks(sample)
    assert [(b.marker, b.reason, b.info) for b in parsed] == [
        ("run", None, ""), ("skip", "needs a real org", ""), (None, None, "text")]
    assert parsed[1].code == "cci org connect x\n"
    result = run_block(parsed[0], {"PATH": PLAIN_PATH, "HOME": str(tmp_path)})
    assert result.returncode != 0 and "echo never" not in result.stderr


@pytest.fixture
def new_shell(tmp_path):
    """What a new terminal has: a HOME (here a fresh one, so cci's keychain is empty), a plain
    PATH, no LOCALORG_HOME of the developer's (a temporary one instead), nothing exported."""
    (tmp_path / "home").mkdir()
    env = {"HOME": str(tmp_path / "home"), "PATH": PLAIN_PATH, "LANG": "C.UTF-8",
           "LOCALORG_HOME": str(tmp_path / "localorg")}
    yield env
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "localorg", "stop"], cwd=ROOT,
                   env=env, capture_output=True)


RUNNABLE = [b for b in blocks(README.read_text()) if b.marker == "run"]
LOCALORG = re.compile(r"^\S*python -m localorg .*$", re.MULTILINE)


def test_blocks_before_another_leave_it_their_localorg_commands_only():
    earlier = Block(1, "", "python -m localorg start  # a comment\nbin/cci flow run x\n"
                    ".venv/bin/python -m localorg register\n", "run", None)
    assert LOCALORG.findall(earlier.code) == [
        "python -m localorg start  # a comment", ".venv/bin/python -m localorg register"]


@pytest.mark.e2e
@pytest.mark.parametrize("index", range(len(RUNNABLE)),
                         ids=[f"README.md:{b.line}" for b in RUNNABLE])
def test_runnable_block_passes_in_a_new_shell(index, new_shell, dev_org_turn):
    block = RUNNABLE[index]
    for earlier in RUNNABLE[:index]:
        commands = Block(earlier.line, earlier.info,
                         "\n".join(LOCALORG.findall(earlier.code)) + "\n", "run", None)
        result = run_block(commands, new_shell)
        assert result.returncode == 0, (
            f"README.md:{earlier.line}: its localorg commands failed before README.md:"
            f"{block.line} (exit {result.returncode}):\n{result.stdout[-3000:]}\n"
            f"{result.stderr[-4000:]}")
    with dev_org_turn() if "dev_org" in block.code else nullcontext():
        result = run_block(block, new_shell)
    assert result.returncode == 0, (
        f"README.md:{block.line}: the block failed (exit {result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-4000:]}")
