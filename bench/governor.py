"""Governor usage of the project's flows as guests and bookings grow, against a naive variant.

    .venv/bin/python bench/governor.py

For each case a fresh local org gets the project's flows (CreateEventTemplate active), a host User
and enough guest Contacts, then one transaction inserts the bookings. The Event work runs after it
commits, in the flow's asynchronous transaction (Run Asynchronously path). The table shows, for
that asynchronous transaction, SOQL queries, DML statements (the outcome written on the bookings
included), rows queried, rows written (DML rows); then the booking transaction's own SOQL/DML and
the wall time of both.
The second table swaps in bench/naive/'s participant subflow (a Get Records per email inside a
loop, generated in memory by bench/naive/make_naive.py from the current flow) and must hit
`System.LimitException: Too many SOQL queries: 201` (the asynchronous limit) at scale.

It guards what it shows: the exit status is 1, with the reason, when the project's flows are not
flat (SOQL or DML differ between cases with guests, a case with no guests costs more, a case
fails, or EventRelations are missing) or when the naive variant never hits the limit.
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.naive.make_naive import generate  # noqa: E402
from localorg.errors import SalesforceError  # noqa: E402
from localorg.scenario import new_org  # noqa: E402
from localorg.users import complete_users  # noqa: E402

CASES = [(1, 0), (1, 1), (1, 10), (1, 50), (1, 200), (200, 10)]


def setup(bookings, guests, naive):
    org = new_org()
    if naive:
        org.deploy_flow("Create_Event_Participant_Template", generate()[0])
    with org.transaction() as txn:
        txn.insert("User", complete_users(txn, [
            {"FirstName": "Ann", "LastName": "Host", "Email": "ann@acme.test", "IsActive": True}]))
        contacts = [
            {"LastName": f"Guest {b}-{g}", "Email": f"g{b}-{g}@bench.test"}
            for b in range(bookings)
            for g in range(guests)
        ]
        for start in range(0, len(contacts), 200):
            txn.insert("Contact", contacts[start : start + 200])
    records = [
        {
            "Name": "invitee.created",
            "Calendly__InviteeUuid__c": f"inv-{b}",
            "Calendly__InviteeEmail__c": f"invitee{b}@bench.test",
            "Calendly__EventSubject__c": f"Meeting {b}",
            "Calendly__EventStartTime__c": "2026-03-02T10:00:00Z",
            "Calendly__EventEndTime__c": "2026-03-02T10:30:00Z",
            "Calendly__EventPrimaryPublisherEmail__c": "ann@acme.test",
            "Calendly__EventTypeKind__c": "Group",
            "Calendly__EventGuestEmails__c": ", ".join(
                f"g{b}-{g}@bench.test" for g in range(guests)
            ),
        }
        for b in range(bookings)
    ]
    return org, records


def measure(bookings, guests, naive=False):
    org, records = setup(bookings, guests, naive)
    outcome = "ok"
    runs = org.flow_trigger.async_paths.runs
    started = time.perf_counter()
    try:
        with org.transaction() as txn:
            try:
                txn.insert("Calendly__CalendlyAction__c", records)
            finally:
                booking = txn.usage.as_dict()
    except SalesforceError as exc:
        outcome = str(exc) if exc.code == "LIMIT_EXCEEDED" else f"{exc.code}: {exc.message}"
    elapsed = (time.perf_counter() - started) * 1000
    usage = {"soql": 0, "dml": 0, "query_rows": 0, "dml_rows": 0}
    for run in runs:  # one asynchronous transaction per 200 bookings
        usage = {k: max(usage[k], run["usage"][k]) for k in usage}
        if run["error"] and outcome == "ok":
            err = run["error"]
            outcome = (f"System.LimitException: {err['message']}"
                       if err["code"] == "LIMIT_EXCEEDED" else f"{err['code']}: {err['message']}")
    with org.transaction() as txn:
        relations = txn.count("EventRelation")
    return usage, booking, elapsed, relations, outcome


def table(title, naive):
    """Print one table; return its rows as (bookings, guests, usage, relations, outcome)."""
    print(f"\n{title}")
    header = (
        f"{'bookings':>8} {'guests':>6} {'SOQL':>5} {'DML':>4} {'rows queried':>12} "
        f"{'rows written':>12} {'booking txn':>11} {'ms':>8} {'relations':>9}  outcome"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for bookings, guests in CASES:
        usage, booking, ms, relations, outcome = measure(bookings, guests, naive)
        print(
            f"{bookings:>8} {guests:>6} {usage['soql']:>5} {usage['dml']:>4} "
            f"{usage['query_rows']:>12} {usage['dml_rows']:>12} "
            f"{booking['soql']:>5}/{booking['dml']:<5} {ms:>8.1f} {relations:>9}  {outcome}"
        )
        rows.append((bookings, guests, usage, relations, outcome))
    return rows


TARGET = {"soql": 5, "dml": 4}  # issue 11: 5 SOQL, 3 DML of Event work + 1 for the outcomes


def shapes() -> list:
    """(name, usage) of the asynchronous transaction for 200 cancels of existing Events, and for
    a mixed batch of 200: 50 new bookings with 10 guests, 50 cancels, 50 retries, 50 copies
    inside the batch of the new ones."""
    out = []
    org, records = setup(150, 10, naive=False)
    runs = org.flow_trigger.async_paths.runs
    with org.transaction() as txn:
        txn.insert("Calendly__CalendlyAction__c", records[:100])  # the Events to cancel/retry
    cancels = [{**r, "Name": "invitee.canceled"} for r in records[:50]]
    mixed = records[100:] + cancels + records[50:100] + records[100:]
    for name, batch in (("200 cancels", [{**r, "Name": "invitee.canceled"}
                                         for r in records[:100] * 2]), ("mixed 200", mixed)):
        before = len(runs)
        with org.transaction() as txn:
            txn.insert("Calendly__CalendlyAction__c", batch)
        usage = {k: max(r["usage"][k] for r in runs[before:]) for k in ("soql", "dml")}
        errors = [r["error"] for r in runs[before:] if r["error"]]
        out.append((name, usage, errors))
    return out


def over_target(shaped) -> list:
    """Shapes whose asynchronous transaction exceeds issue 11's target, or failed."""
    problems = [f"{name}: {usage['soql']} SOQL / {usage['dml']} DML over the target "
                f"{TARGET['soql']}/{TARGET['dml']}" for name, usage, _ in shaped
                if usage["soql"] > TARGET["soql"] or usage["dml"] > TARGET["dml"]]
    problems += [f"{name} failed: {errors[0]['code']}: {errors[0]['message']}"
                 for name, _, errors in shaped if errors]
    return problems


def not_flat(rows) -> list:
    """Why the project's flows are not bulk-safe in `rows` (empty when they are).

    Every case must succeed and save bookings x guests EventRelations; SOQL and DML must be the
    same in every case with guests, and no higher without guests (that path skips the lookups).
    """
    problems = []
    for bookings, guests, _, relations, outcome in rows:
        if outcome != "ok":
            problems.append(f"{bookings}x{guests} failed: {outcome}")
        elif relations != bookings * guests:
            problems.append(f"{bookings}x{guests} saved {relations} EventRelations, "
                            f"expected {bookings * guests}")
    cost = {(b, g): (u["soql"], u["dml"]) for b, g, u, _, _ in rows}
    with_guests = {c for (_, g), c in cost.items() if g}
    if len(with_guests) > 1:
        problems.append("SOQL/DML grow with guests or bookings: "
                        + ", ".join(f"{b}x{g}={s}/{d}" for (b, g), (s, d) in cost.items()))
    elif with_guests:
        (top,) = with_guests
        problems += [f"{b}x{g} costs {s}/{d} SOQL/DML, more than {top[0]}/{top[1]} with guests"
                     for (b, g), (s, d) in cost.items() if not g and (s > top[0] or d > top[1])]
    return problems


def main() -> int:
    project = table("Project flows (bulkified participant subflow)", naive=False)
    naive = table("Naive participant subflow (Get Records per email inside a loop)", naive=True)
    print(
        "\nSOQL/DML/rows: the asynchronous transaction (the Event work and the outcome written on "
        "the bookings); booking txn: SOQL/DML of Calendly's insert itself; relations = "
        "EventRelations saved (0 when the asynchronous transaction rolled back)"
    )
    shaped = shapes()
    print("\nCancels and mixed batches (asynchronous transaction)")
    for name, usage, errors in shaped:
        print(f"  {name:<12} {usage['soql']:>3} SOQL {usage['dml']:>3} DML  "
              f"{'ok' if not errors else errors[0]['code']}")
    problems = not_flat(project) + over_target(shaped)
    problems += [f"{b}x{g}: {u['soql']} SOQL / {u['dml']} DML over the target"
                 for b, g, u, _, _ in project
                 if u["soql"] > TARGET["soql"] or u["dml"] > TARGET["dml"]]
    if not any(outcome.startswith("System.LimitException") for *_, outcome in naive):
        problems.append("the naive variant never hit a governor limit: the limit counting or "
                        "bench/naive/make_naive.py no longer de-bulkifies the flow")
    if problems:
        print("\nFAIL: the project's flows are not shown bulk-safe:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("\nOK: project SOQL/DML are the same for every number of guests and bookings, "
          f"every shape within {TARGET['soql']} SOQL / {TARGET['dml']} DML; the naive variant "
          "hits the SOQL limit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
