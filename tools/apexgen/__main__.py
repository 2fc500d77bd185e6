"""`python -m tools.apexgen [--check]`: write force-app-tests' CalendlyScenariosTest from
tests/scenarios/*.yml; with --check, write nothing and exit 1 when the checked-in class is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tools.apexgen.render import CLASS_NAME, COMMAND, booking_field_types, meta_xml, render
from tools.apexgen.scenarios import analyse

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "scenarios"
STANDIN = ROOT / "unpackaged" / "standin" / "calendly"
CLASSES = ROOT / "force-app-tests" / "main" / "default" / "classes"


def generate(scenarios: Path = SCENARIOS, standin: Path = STANDIN) -> dict:
    """{file path: text} of the class and its -meta.xml, and the plans (for reports)."""
    api = json.loads((ROOT / "sfdx-project.json").read_text())["sourceApiVersion"]
    plans = [analyse(p) for p in sorted(scenarios.glob("*.yml"))]
    source = render(plans, booking_field_types(standin), api)
    return {"files": {CLASSES / f"{CLASS_NAME}.cls": source,
                      CLASSES / f"{CLASS_NAME}.cls-meta.xml": meta_xml(api)},
            "plans": plans}


def stale(files: dict) -> list[Path]:
    return [p for p, text in files.items() if not p.is_file() or p.read_text() != text]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when the checked-in class differs; write nothing")
    args = parser.parse_args(argv)
    result = generate()
    changed = stale(result["files"])
    if args.check:
        for path in changed:
            print(f"{path.relative_to(ROOT)} is stale: run `{COMMAND}` and commit it",
                  file=sys.stderr)
        return 1 if changed else 0
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(result["files"][path])
    plans = result["plans"]
    skipped = [p for p in plans if p.reason]
    print(f"{CLASS_NAME}: {len(plans) - len(skipped)} scenario methods + governor test; "
          f"{len(skipped)} not expressible; {len(changed)} file(s) written")
    for plan in skipped:
        print(f"  not expressible: {plan.name}: {plan.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
