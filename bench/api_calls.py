"""Count the API calls each project task makes: dry run, first run, re-run.

    .venv/bin/python bench/api_calls.py              # the in-process fake org (responses)
    .venv/bin/python bench/api_calls.py --org local    # any org cci knows

Every HTTP request goes through requests.Session.send, which this script wraps to count
calls by endpoint; writes are PATCH/POST/DELETE REST calls and Metadata API deploys. The
tasks run exactly as configured in cumulusci.yml (plus the options below), in pipeline
order (check, deploy, clone, activate, layout). Each task runs three times before the next
one starts: dry run (must write nothing), first run, re-run (must write nothing either),
so every dry run sees the org the earlier steps left, as in `cci flow run calendly_setup`.
The script exits 1 on any error or on a write outside a first run.

With --org, the tasks really change that org: use a scratch or local org. The local org
(python -m localorg start; python -m localorg register; then --org local, with
REQUESTS_CA_BUNDLE=.localorg/ca-bundle.pem as bin/cci sets it) has the package's stand-in,
template flow included, so the clone step copies Calendly__CreateEventTemplate there too.
"""

import argparse
import json
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from cumulusci.core.config import TaskConfig  # noqa: E402

import conftest  # noqa: E402,F401  (makes the project's tasks package importable)

TEMPLATE = ROOT / "tests" / "fixtures" / "tasks" / "Calendly__CreateEventTemplate.flow"
# task name in cumulusci.yml -> extra options for this benchmark
STEPS = {
    "calendly_check_package_version": {},
    "calendly_deploy_flows": {},
    "calendly_clone_flow": {},
    "calendly_activate_flow": {},
    "calendly_patch_event_layout": {},
}
OUTCOME_KEYS = (
    "installed_version",
    "deployed",
    "would_deploy",
    "action",
    "changed",
    "would_change_to",
    "patched",
    "already_patched",
    "would_patch",
)
DRY_RUN = {
    "calendly_deploy_flows",
    "calendly_clone_flow",
    "calendly_activate_flow",
    "calendly_patch_event_layout",
}


class CallLog:
    """Wraps requests.Session.send and records (method, endpoint, is_write)."""

    def __init__(self):
        self.calls = []
        self._send = requests.Session.send

    @contextmanager
    def recording(self):
        log = self

        def send(session, request, **kwargs):
            log.calls.append(classify(request))
            return log._send(session, request, **kwargs)

        with mock.patch.object(requests.Session, "send", send):
            yield


def classify(request):
    path = requests.utils.urlparse(request.url).path
    action = request.headers.get("SOAPAction")
    if "/services/Soap/m/" in path:
        endpoint = f"SOAP {action}"
        return endpoint, action == "deploy"
    for marker in ("/tooling/query", "/tooling/sobjects/", "/query", "/sobjects/"):
        if marker in path:
            tail = path.split(marker, 1)[1].strip("/").split("/")[0]
            endpoint = f"{request.method} {marker.strip('/')}" + (f"/{tail}" if tail else "")
            return endpoint, request.method in ("PATCH", "POST", "DELETE", "PUT")
    return f"{request.method} {path}", request.method in ("PATCH", "POST", "DELETE", "PUT")


class FakeTarget:
    """The tests' fake org: Calendly 2.5, its template, an older CreateEventTemplate
    (v1, inactive), and Salesforce's stock Event Layout."""

    name = "fake org (responses)"
    extra_options = {}  # it has the package's template

    def __enter__(self):
        from tests.fixtures.tasks import task_fake_org

        self._serving = task_fake_org.serving()
        org = self._serving.__enter__()
        org.install_package("Calendly", "2.5")
        org.add_flow("Calendly__CreateEventTemplate", [TEMPLATE.read_bytes()], active=1)
        org.add_flow("CreateEventTemplate", [task_fake_org.flow_xml("CreateEventTemplate")])
        org.layouts["Event-Event Layout"] = task_fake_org.event_layouts()[0]
        self.project_config = task_fake_org.project_config()
        return self

    def __exit__(self, *exc):
        return self._serving.__exit__(*exc)

    def org_config(self):
        """A new OrgConfig per task, as each `cci task run` has (no cached package list)."""
        from tests.fixtures.tasks import task_fake_org

        return task_fake_org.org_config(self.project_config, "fake")


class CciOrgTarget:
    """An org from cci's keychain (e.g. `local`, saved there by `localorg register`)."""

    def __init__(self, name):
        self.name = f"cci org {name}"
        self._org = name

    def __enter__(self):
        from cumulusci.cli.runtime import CliRuntime

        self._runtime = CliRuntime(load_keychain=True)
        self.project_config = self._runtime.project_config
        self.extra_options = {}
        return self

    def __exit__(self, *exc):
        return None

    def org_config(self):
        return self._runtime.keychain.get_org(self._org)


def run_task(target, name, options):
    task_config = target.project_config.get_task(name)
    config = TaskConfig({**task_config.config, "options": {**task_config.options, **options}})
    task_class = task_config.get_class()
    task = task_class(target.project_config, config, target.org_config())
    task()
    return task.return_values


def bench(target, steps=STEPS):
    rows = []
    log = CallLog()
    rounds = [("dry run", {"dry_run": True}), ("first run", {}), ("re-run", {})]
    with target, log.recording():
        for name, options in steps.items():
            options = {**target.extra_options.get(name, {}), **options}
            for label, extra in rounds:
                if label == "dry run" and name not in DRY_RUN:
                    continue
                start = len(log.calls)
                try:
                    result = run_task(target, name, {**options, **extra})
                    outcome = ", ".join(
                        f"{key}={result[key]}" for key in OUTCOME_KEYS if key in result
                        and not (key.startswith("would_") and result[key] in (None, []))
                    )
                except Exception as err:  # reported in the table, not hidden
                    outcome = f"error: {type(err).__name__}: {str(err)[:80]}"
                calls = log.calls[start:]
                rows.append(
                    {
                        "task": name,
                        "run": label,
                        "calls": len(calls),
                        "writes": sum(1 for _, write in calls if write),
                        "endpoints": dict(Counter(endpoint for endpoint, _ in calls)),
                        "outcome": str(outcome),
                    }
                )
    return rows


def table(rows, title):
    lines = [
        f"API calls per task run on {title}",
        "",
        "| task | run | calls | writes | outcome |",
        "|---|---|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['task']} | {row['run']} | {row['calls']} | {row['writes']} | "
            f"{row['outcome']} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--org", help="a cci org name (default: the in-process fake org)")
    parser.add_argument("--json", action="store_true", help="print JSON rows, with endpoints")
    parser.add_argument(
        "--clone-source-file",
        help="copy this flow file instead of the org's Calendly__CreateEventTemplate "
        "(for orgs without the real package, e.g. flows/CreateEventTemplate.flow-meta.xml)",
    )
    args = parser.parse_args(argv)
    target = CciOrgTarget(args.org) if args.org else FakeTarget()
    steps = dict(STEPS)
    if args.clone_source_file:
        steps["calendly_clone_flow"] = {"source_file": args.clone_source_file}
    rows = bench(target, steps)
    print(json.dumps(rows, indent=2) if args.json else table(rows, target.name))
    rerun_writes = sum(row["writes"] for row in rows if row["run"] != "first run")
    errors = [row for row in rows if row["outcome"].startswith("error")]
    print(f"\nwrites outside the first run: {rerun_writes}; errors: {len(errors)}")
    return 1 if rerun_writes or errors else 0


if __name__ == "__main__":
    sys.exit(main())
