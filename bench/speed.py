"""Speed of the flow runtime against SQLite alone, in one run.

    .venv/bin/python bench/speed.py [--runs 3] [--bookings 200] [--guests 10]

Each run takes a fresh local org with the project's flows, a host User and bookings x guests
Contacts (bench/governor.py's set-up, not timed), then times one transaction inserting the
bookings, whose asynchronous path creates the Events, their EventRelations and writes the
outcome on the bookings. Then SQLite alone writes the same rows (every booking, Event and
EventRelation as stored, in the same one-table layout, the bookings written twice: inserted,
then updated with their outcome) into a fresh in-memory database, in one transaction.

Prints wall and CPU seconds (min and median of the runs) of both, their ratio (medians; issue
11's target is at most 10) and the machine's load average, which on a shared machine explains
wall times far above CPU times. The flow transaction's CPU time is also split in two: the SOQL
queries and DML statements the flows' data elements run (the store, localorg/backend) and the
rest (the flow runtime, the trigger and the booking insert itself). Exit status 1 when a run
loses a booking or an EventRelation.
"""

import argparse
import json
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.governor import setup  # noqa: E402
from localorg.flow.scheduler import Runtime  # noqa: E402

WRITTEN = ("Calendly__CalendlyAction__c", "Event", "EventRelation")


def clock():
    return time.perf_counter(), time.process_time()


def since(start):
    wall, cpu = clock()
    return wall - start[0], cpu - start[1]


STORE_CPU = [0.0]  # CPU seconds in the flows' SOQL/DML statements, of the current run


def _timed(execute):
    """Runtime._execute (one bulkified SOQL query or DML statement), counting its CPU time."""
    def run(self, requests):
        start = time.process_time()
        try:
            return execute(self, requests)
        finally:
            STORE_CPU[0] += time.process_time() - start
    return run


Runtime._execute = _timed(Runtime._execute)


def flow_run(bookings, guests):
    """(wall, cpu, store cpu) of one booking transaction and the rows it wrote,
    {sobject: [row]}."""
    org, records = setup(bookings, guests, naive=False)
    STORE_CPU[0] = 0.0
    start = clock()
    with org.transaction() as txn:
        txn.insert("Calendly__CalendlyAction__c", records)
    took = (*since(start), STORE_CPU[0])
    errors = [r["error"] for r in org.flow_trigger.async_paths.runs if r["error"]]
    rows = {s: org.db.rows(s) for s in WRITTEN}
    if errors or len(rows["EventRelation"]) != bookings * guests or len(rows["Event"]) != bookings:
        raise SystemExit(f"FAIL: the flows lost work: {len(rows['Event'])} Events, "
                         f"{len(rows['EventRelation'])} EventRelations, errors {errors[:1]}")
    return took, rows


def sqlite_run(rows):
    """(wall, cpu) of SQLite alone writing `rows`: inserts, then the bookings' update."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE records (id TEXT PRIMARY KEY, sobject TEXT NOT NULL, "
               "data TEXT NOT NULL)")
    db.execute("CREATE INDEX records_sobject ON records (sobject)")
    start = clock()
    db.execute("BEGIN")
    for sobject in WRITTEN:
        db.executemany("INSERT INTO records (id, sobject, data) VALUES (?, ?, ?)",
                       [(r["Id"], sobject, json.dumps(r)) for r in rows[sobject]])
    db.executemany("UPDATE records SET data = ? WHERE id = ?",
                   [(json.dumps(r), r["Id"]) for r in rows[WRITTEN[0]]])
    db.execute("COMMIT")
    return since(start)


def summary(samples):
    return min(samples), statistics.median(samples)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bookings", type=int, default=200)
    parser.add_argument("--guests", type=int, default=10)
    args = parser.parse_args(argv)
    flow_times, sql_times, count = [], [], 0
    for _ in range(args.runs):
        took, rows = flow_run(args.bookings, args.guests)
        flow_times.append(took)
        sql_times.append(sqlite_run(rows))
        count = sum(len(v) for v in rows.values()) + len(rows[WRITTEN[0]])
    print(f"{args.bookings} bookings x {args.guests} guests, {args.runs} runs; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'':<34} {'wall min':>9} {'median':>9} {'cpu min':>9} {'median':>9}")
    rows = [("flow transaction (s)", [t[:2] for t in flow_times]),
            ("  of which flow SOQL/DML (s)", [(None, t[2]) for t in flow_times]),
            ("  the rest: flow runtime (s)", [(None, t[1] - t[2]) for t in flow_times]),
            (f"SQLite alone, {count} row writes (s)", sql_times)]
    for name, samples in rows:
        cpu = summary([c for _, c in samples])
        wall = ("", "") if samples[0][0] is None else tuple(
            f"{w:.3f}" for w in summary([w for w, _ in samples]))
        print(f"{name:<34} {wall[0]:>9} {wall[1]:>9} {cpu[0]:>9.3f} {cpu[1]:>9.3f}")
    ratio_wall = summary([t[0] for t in flow_times])[1] / summary([w for w, _ in sql_times])[1]
    ratio_cpu = summary([t[1] for t in flow_times])[1] / summary([c for _, c in sql_times])[1]
    print(f"ratio (medians): {ratio_wall:.1f}x wall, {ratio_cpu:.1f}x cpu (target <= 10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
