"""Benchmark `cci flow run dev_org --org local`: wall time and API calls by endpoint.

    .venv/bin/python bench/dev_org.py [--runs N] [--json]

Starts a fresh local org in a temporary LOCALORG_HOME (the developer's own org is untouched;
the directory, with its token and key, is removed at the end), registers it, runs dev_org
`--runs` times (default 1; later runs re-run on the same org) and reads the server's access log
(method, route, SOAP action, status, server milliseconds; no query strings) to count calls per
endpoint for each run. It also lists the metadata each run wrote: components whose
last-modified time changed, flow versions added or activated. Exits 1 when a run fails.
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def localorg(env, *args) -> str:
    result = subprocess.run([PY, "-m", "localorg.cli", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=180)
    if result.returncode != 0:
        sys.exit(f"python -m localorg {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def read_log(path: Path, start: int) -> tuple:
    lines = path.read_text().splitlines()[start:] if path.exists() else []
    calls, server_ms, errors = Counter(), 0.0, Counter()
    for line in lines:
        _, key, status, ms = line.split("\t")
        calls[key] += 1
        server_ms += float(ms)
        if not status.startswith("2"):
            errors[f"{key} -> {status}"] += 1
    return calls, server_ms, errors, len(lines)


def org_metadata(db: Path) -> dict:
    """What the org holds now: {component or flow: last-modified time or status}."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT kind || ' ' || full_name, last_modified FROM components "
                            "UNION ALL SELECT 'Flow ' || name || ' v' || version, status "
                            "FROM flows").fetchall()
    return dict(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="localorg-bench-"))
    (home / "home").mkdir()  # cci's keychain of this run: the developer's `local` is untouched
    env = {**os.environ, "LOCALORG_HOME": str(home), "HOME": str(home / "home"),
           "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"}
    localorg(env, "start", "--fresh")
    results = []
    try:
        localorg(env, "register", "--no-verify")
        cci_env = {**env, "REQUESTS_CA_BUNDLE": str(home / "ca")}  # as bin/cci sets it
        log = home / "access.log"
        seen = read_log(log, 0)[3]  # calls made by register itself
        metadata = org_metadata(home / "org.sqlite3")
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            done = subprocess.run([str(Path(PY).with_name("cci")), "flow", "run", "dev_org",
                                   "--org", "local"], cwd=ROOT, env=cci_env,
                                  capture_output=True, text=True, timeout=900)
            wall = time.perf_counter() - started
            calls, server_ms, errors, n = read_log(log, seen)
            seen += n
            before, metadata = metadata, org_metadata(home / "org.sqlite3")
            written = sorted(k for k, v in metadata.items() if before.get(k) != v)
            results.append({"run": run, "ok": done.returncode == 0, "wall_s": round(wall, 2),
                            "api_calls": sum(calls.values()), "server_ms": round(server_ms),
                            "by_endpoint": dict(calls.most_common()),
                            "non_2xx": dict(errors), "metadata_written": written})
            if done.returncode != 0:
                print(done.stdout[-3000:], done.stderr[-2000:], file=sys.stderr)
                break
    finally:
        localorg(env, "stop")
        shutil.rmtree(home, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(f"run {r['run']}: {'ok' if r['ok'] else 'FAILED'}, {r['wall_s']} s wall, "
                  f"{r['api_calls']} API calls, {r['server_ms']} ms in the server")
            for key, count in r["by_endpoint"].items():
                print(f"  {count:4d}  {key}")
            for key, count in r["non_2xx"].items():
                print(f"  non-2xx {count:4d}  {key}")
            print(f"  metadata written: {', '.join(r['metadata_written']) or 'none'}")
    return 0 if results and all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
