"""Indexed lookups: a filter narrowed by SQLite's index answers exactly what a full scan does."""

import pytest

from localorg.backend import Org
from localorg.backend.query import Records, Resolver
from localorg.conditions import And, Cmp, Not, Or

PEOPLE = [
    ("Ann", "Ann@X.test"), ("Bob", "bob@x.test"), ("Cy", None), ("Dee", "KELVIN@x.test"),
    ("Eve", "\u212aelvin@x.test"), ("Fay", "ÉLODIE@x.test"), ("Gus", "élodie@x.test"),
    ("Hal", "bob@x.test"), ("Ida", "b_b@x.test"), ("Jo", "ann@x.test "),
]

FILTERS = [
    Cmp("Email", "=", "ann@x.test"),
    Cmp("Email", "=", "ANN@x.TEST"),
    Cmp("email", "IN", ["BOB@x.test", "élodie@X.test", "nobody@x.test"]),
    Cmp("Email", "=", "\u212aelvin@x.test"),  # Kelvin sign: Python folds it to "k"
    Cmp("Email", "=", "kelvin@x.test"),
    Cmp("Email", "IN", []),
    Cmp("Email", "=", None),
    Cmp("Email", "IN", ["bob@x.test", None]),
    And(Cmp("Email", "IN", ["bob@x.test", "ann@x.test"]), Cmp("LastName", "!=", "Hal")),
    And(Cmp("LastName", "=", "bob"), Cmp("Email", "=", "BOB@X.TEST")),
    Or(Cmp("Email", "=", "bob@x.test"), Cmp("LastName", "=", "Ann")),
    Not(Cmp("Email", "=", "bob@x.test")),
    Cmp("Email", "LIKE", "b_b@x.test"),
    Cmp("Owner.Email", "=", "ADMIN@localorg.test"),
]


@pytest.fixture(scope="module")
def org():
    org = Org(run_flows=False)
    with org.transaction() as txn:
        txn.insert("Contact", [{"LastName": n, "Email": e} for n, e in PEOPLE if e and " " not in e
                               and "\u212a" not in e] + [{"LastName": "Cy"}])
    with org.transaction() as txn:  # values the email rule refuses, stored as they are
        for name, email in PEOPLE:
            if email and (" " in email or "\u212a" in email):
                rid = txn.insert("Contact", [{"LastName": name}])[0]
                _, row = org.db.fetch(rid)
                org.db.write("Contact", {**row, "Email": email}, new=False)
    return org


@pytest.mark.parametrize("where", FILTERS, ids=repr)
def test_indexed_filter_matches_full_scan(org, where):
    with org.transaction() as txn:
        indexed = [r["Id"] for r in txn.query("Contact", ["Id"], where=where)]
        resolver = Resolver(Records(org), org.describe("Contact"))
        scanned = [r["Id"] for r in resolver.matching(txn, where, org.db.rows("Contact"))]
    assert indexed == scanned


def test_bulk_lookup_matches_one_query_per_filter(org):
    with org.transaction() as txn:
        many = txn.query_many("Contact", ["Id", "LastName"],
                              [(where, None, None) for where in FILTERS])
        single = [txn.query("Contact", ["Id", "LastName"], where=where) for where in FILTERS]
    assert many == single


def test_lookup_by_email_uses_an_index(org):
    with org.transaction() as txn:
        txn.query("Contact", ["Id"], where=Cmp("Email", "=", "bob@x.test"))
    plan = org.db._db.execute(
        "EXPLAIN QUERY PLAN SELECT rowid, data FROM records WHERE sobject = 'Contact' AND "
        "fold(json_extract(data, '$.\"Email\"')) IN (?)", ["bob@x.test"]).fetchall()
    assert any("records_Contact_Email" in row[-1] for row in plan), plan


def test_index_made_in_a_rolled_back_transaction_is_made_again(org):
    def index_exists():
        return org.db._db.execute("SELECT count(*) FROM sqlite_master WHERE name = "
                                  "'records_Contact_FirstName'").fetchone()[0] == 1

    with pytest.raises(RuntimeError), org.transaction() as txn:
        txn.query("Contact", ["Id"], where=Cmp("FirstName", "=", "x"))
        assert index_exists()
        raise RuntimeError("roll back")
    assert not index_exists()
    with org.transaction() as txn:
        txn.insert("Contact", [{"LastName": "Kim", "FirstName": "Xena"}])
        found = txn.query("Contact", ["LastName"], where=Cmp("FirstName", "=", "XENA"))
    assert found == [{"LastName": "Kim"}]
    assert index_exists()
