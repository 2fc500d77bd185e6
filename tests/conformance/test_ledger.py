"""docs/fidelity.md stays true to the tests: every test it names exists, every recorded sample it
cites is one the conformance tests replay, every deliberate difference of samples.yml is a row."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
LEDGER = (ROOT / "docs" / "fidelity.md").read_text()
SPEC = yaml.safe_load((Path(__file__).parent / "samples.yml").read_text())["samples"]


def test_every_test_the_ledger_names_exists():
    missing = []
    for path, name in re.findall(r"(tests/[\w/]+\.py)::(\w+)", LEDGER):
        file = ROOT / path
        if not file.exists() or not re.search(rf"^def {name}\(", file.read_text(), re.M):
            missing.append(f"{path}::{name}")
    assert missing == []


def test_every_cited_sample_is_replayed():
    cited = set()
    for name in re.findall(r"recorded:([\w{},]+)\.json", LEDGER):
        head, _, rest = name.partition("{")
        options, _, tail = rest.partition("}")
        cited |= {f"{head}{o}{tail}.json" for o in options.split(",")} if rest else {f"{name}.json"}
    assert sorted(cited - set(SPEC)) == []


def test_deliberate_differences_are_in_the_ledger():
    """Each deliberate difference of samples.yml is a row of the ledger's own section."""
    section = LEDGER.split("## Deliberate differences", 1)[1]
    whats = set()
    for spec in SPEC.values():
        whats |= {item["what"] for item in spec.get("deliberate") or ()}
        whats |= set((spec.get("ignore") or {}).values())
        whats |= set((spec.get("common_only") or {}).values())
    missing = sorted(w for w in whats if w not in section)
    assert missing == [], "not in docs/fidelity.md 'Deliberate differences': " + "; ".join(missing)
