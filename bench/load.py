"""Load benchmark of the local org: concurrent Calendly bookings through the REST API.

    .venv/bin/python bench/load.py [--bookings 2000] [--guests 5] [--clients 8] [--batch 200]

Starts a fresh local org in a temporary LOCALORG_HOME (the developer's own org is untouched; the
directory is removed at the end), runs `cci flow run dev_org --org local` (not timed), creates
the Contacts the guests resolve to, then N concurrent clients (one simple-salesforce session each)
insert the bookings as sObject Collections of up to 200 records, which fires CreateEventTemplate
once per call. Then it checks that nothing was lost: every Event and EventRelation is read back
and compared with the expected ones, and again after a stop/start of the org (persistence).
Prints bookings per second and wall time, and the CPU seconds the server process spent on the
inserts (read from /proc where there is one): on a shared machine the wall time follows the other
processes' load, the CPU time much less. tests/test_load.py runs the same code, smaller.
"""

import argparse
import os
import secrets
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localorg.backend import ADMIN_EMAIL  # noqa: E402
from localorg.cli import read_state  # noqa: E402
from localorg.demo import (  # noqa: E402  (the checkout root is added just above)
    DemoFailure,
    chunks,
    compare,
    connect,
    fetch_events,
    localorg,
    register_env,
    run_dev_org,
    stop_org,
)


def create_guests(sf, run_id: str, count: int) -> list:
    """`count` Contacts with emails unique to this run; returns their emails."""
    emails = [f"guest-{run_id}-{i}@load.test" for i in range(count)]
    for part in chunks(emails):
        body = {
            "allOrNone": True,
            "records": [
                {
                    "attributes": {"type": "Contact"},
                    "LastName": f"Guest {e.split('@')[0]}",
                    "Email": e,
                }
                for e in part
            ],
        }
        failed = [
            r
            for r in sf.restful("composite/sobjects", method="POST", json=body)
            if not r["success"]
        ]
        if failed:
            raise DemoFailure(f"creating guest Contacts failed: {failed[0]['errors']}")
    return emails


def make_bookings(run_id: str, count: int, guests: int, people: list) -> tuple:
    """Booking records and their expected Events: the invitee and `guests` guests are Contacts."""
    if len(people) <= guests:
        raise ValueError(f"need more than {guests} Contacts, got {len(people)}")
    records, expected = [], []
    for i in range(count):
        invitee = people[i % len(people)]
        guest_emails = [people[(i + 1 + k) % len(people)] for k in range(guests)]
        uuid = f"load-{run_id}-{i}"
        records.append(
            {
                "Name": "invitee.created",
                "Calendly__InviteeUuid__c": uuid,
                "Calendly__EventUuid__c": f"evt-{uuid}",
                "Calendly__InviteeEmail__c": invitee,
                "Calendly__EventSubject__c": f"Load {run_id} #{i}",
                "Calendly__EventStartTime__c": "2026-12-01T09:00:00.000Z",
                "Calendly__EventEndTime__c": "2026-12-01T09:30:00.000Z",
                "Calendly__EventPrimaryPublisherEmail__c": ADMIN_EMAIL,
                "Calendly__EventTypeKind__c": "OneOnOne",
                "Calendly__EventGuestEmails__c": "; ".join(guest_emails),
            }
        )
        expected.append(
            {
                "invitee_uuid": uuid,
                "subject": f"Load {run_id} #{i}",
                "owner_email": ADMIN_EMAIL,
                "who_email": invitee,
                "show_as": "Busy",
                "participants": [
                    {
                        "relation_email": invitee,
                        "relation_type": "Contact",
                        "is_invitee": False,
                        "is_parent": True,
                    }
                ]
                + [
                    {
                        "relation_email": g,
                        "relation_type": "Contact",
                        "is_invitee": True,
                        "is_parent": True,
                    }
                    for g in guest_emails
                ],
            }
        )
    return records, expected


def insert_concurrently(env: dict, records: list, clients: int, batch: int) -> float:
    """Inserts `records` as Collections of `batch` from `clients` threads; returns seconds."""
    if not 1 <= batch <= 200:
        raise ValueError("--batch must be between 1 and 200 (sObject Collections' limit)")
    batches = list(chunks(records, batch))
    sessions = [connect(env) for _ in range(clients)]

    def send(index: int) -> list:
        sf = sessions[index % clients]
        errors = []
        for part in batches[index::clients]:
            body = {
                "allOrNone": True,
                "records": [
                    {"attributes": {"type": "Calendly__CalendlyAction__c"}, **r} for r in part
                ],
            }
            results = sf.restful("composite/sobjects", method="POST", json=body)
            errors += [r["errors"] for r in results if not r["success"]]
        return errors

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        errors = [e for result in pool.map(send, range(clients)) for e in result]
    elapsed = time.perf_counter() - start
    if errors:
        raise DemoFailure(f"{len(errors)} bookings were refused, first: {errors[0]}")
    return elapsed


def server_cpu() -> float | None:
    """CPU seconds (user + system) the running server has used, or None without /proc."""
    state = read_state()
    stat = Path(f"/proc/{state['pid']}/stat") if state else None
    if stat is None or not stat.exists():
        return None
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def verify(sf, expected: list, when: str) -> int:
    """Reads the Events back and compares them; returns the participant count."""
    actual = fetch_events(sf, [e["invitee_uuid"] for e in expected])
    failures = compare(expected, actual)
    if failures:
        raise DemoFailure(f"{when}: {len(failures)} differences, first: {failures[:5]}")
    return sum(len(e["participants"]) for e in actual)


def load(
    env: dict, bookings: int, guests: int, clients: int, batch: int, restart: bool = True
) -> dict:
    """The whole measurement on a running org with the flows active; returns the figures."""
    run_id = secrets.token_hex(4)
    sf = connect(env)
    people = create_guests(sf, run_id, max(guests + 1, min(bookings, 500)))
    records, expected = make_bookings(run_id, bookings, guests, people)
    cpu_before = server_cpu()
    elapsed = insert_concurrently(env, records, clients, batch)
    cpu_after = server_cpu()
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    participants = verify(sf, expected, "after the inserts")
    if restart:
        localorg("stop")
        localorg("start")
        env = register_env()
        verify(connect(env), expected, "after a restart")
    return {
        "bookings": bookings,
        "participants": participants,
        "seconds": elapsed,
        "server_cpu": cpu,
        "per_second": bookings / elapsed if elapsed else float("inf"),
        "env": env,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bookings", type=int, default=2000)
    parser.add_argument("--guests", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args(argv)
    if not 1 <= args.batch <= 200:
        parser.error("--batch must be between 1 and 200 (sObject Collections' limit)")
    if min(args.bookings, args.clients) < 1 or args.guests < 0:
        parser.error("--bookings and --clients must be at least 1, --guests at least 0")
    home = tempfile.mkdtemp(prefix="localorg-load-")
    os.environ["LOCALORG_HOME"] = home  # read by every `python -m localorg` this script runs
    os.environ["HOME"] = os.path.join(home, "home")  # its own cci keychain
    os.mkdir(os.environ["HOME"])
    try:
        localorg("start", "--fresh")
        env = register_env()
        run_dev_org(env)
        figures = load(env, args.bookings, args.guests, args.clients, args.batch)
    except DemoFailure as err:
        print(f"LOAD FAILED: {err}", file=sys.stderr)
        return 1
    finally:
        stop_org()
        shutil.rmtree(home, ignore_errors=True)
    cpu = figures["server_cpu"]
    print(
        f"{figures['bookings']} bookings x {args.guests} guests, {args.clients} clients, "
        f"Collections of {args.batch}: {figures['seconds']:.2f} s wall, "
        f"{figures['per_second']:.1f} bookings/s"
        + (f", server CPU {cpu:.2f} s" if cpu is not None else "")
        + f"; {figures['participants']} EventRelations exact, also after a restart; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
