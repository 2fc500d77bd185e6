"""Governor usage of the project's flows as guests and bookings grow, against a naive variant.

    .venv/bin/python bench/governor.py

For each case a fresh local org gets the project's flows (CreateEventTemplate active), a host User
and enough guest Contacts, then one transaction inserts the bookings. The table shows SOQL
queries, DML statements, rows queried, rows written (DML rows) and wall time of that transaction.
The second table swaps in bench/naive/'s participant subflow (a Get Records per email inside a
loop, generated in memory by bench/naive/make_naive.py from the current flow) and must hit
`System.LimitException: Too many SOQL queries: 101` at scale. A benchmark, not a test: figures
are printed, nothing is asserted.
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from localorg.errors import SalesforceError  # noqa: E402
from localorg.scenario import new_org  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from naive.make_naive import generate  # noqa: E402

CASES = [(1, 0), (1, 1), (1, 10), (1, 50), (1, 200), (200, 10)]


def setup(bookings, guests, naive):
    org = new_org()
    if naive:
        org.deploy_flow("Create_Event_Participant_Template", generate()[0])
    with org.transaction() as txn:
        txn.insert(
            "User",
            [{"FirstName": "Ann", "LastName": "Host", "Email": "ann@acme.test", "IsActive": True}],
        )
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
    started = time.perf_counter()
    try:
        with org.transaction() as txn:
            try:
                txn.insert("Calendly__CalendlyAction__c", records)
            finally:
                usage = txn.usage.as_dict()
    except SalesforceError as exc:
        outcome = str(exc) if exc.code == "LIMIT_EXCEEDED" else f"{exc.code}: {exc.message}"
    elapsed = (time.perf_counter() - started) * 1000
    with org.transaction() as txn:
        relations = txn.count("EventRelation")
    return usage, elapsed, relations, outcome


def table(title, naive):
    print(f"\n{title}")
    header = (
        f"{'bookings':>8} {'guests':>6} {'SOQL':>5} {'DML':>4} {'rows queried':>12} "
        f"{'rows written':>12} {'ms':>8} {'relations':>9}  outcome"
    )
    print(header)
    print("-" * len(header))
    for bookings, guests in CASES:
        usage, ms, relations, outcome = measure(bookings, guests, naive)
        print(
            f"{bookings:>8} {guests:>6} {usage['soql']:>5} {usage['dml']:>4} "
            f"{usage['query_rows']:>12} {usage['dml_rows']:>12} {ms:>8.1f} {relations:>9}  "
            f"{outcome}"
        )


def main():
    table("Project flows (bulkified participant subflow)", naive=False)
    table("Naive participant subflow (Get Records per email inside a loop)", naive=True)
    print(
        "\nrows written include the bookings themselves; relations = EventRelations saved "
        "(0 when the transaction rolled back)"
    )


if __name__ == "__main__":
    main()
