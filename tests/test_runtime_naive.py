"""The project's participant subflow stays flat in SOQL; its de-bulkified copy breaks the limit."""

from bench import governor
from bench.naive import make_naive


def run(guests, naive):
    """Usage of the asynchronous transaction that does the Event work, EventRelations saved,
    and the outcome (a limit breach there rolls back that transaction only)."""
    usage, _booking, _ms, relations, outcome = governor.measure(1, guests, naive)
    return usage, relations, outcome


def test_project_flows_flat_in_guests():
    small, _, _ = run(2, naive=False)
    large, relations, outcome = run(120, naive=False)
    assert outcome == "ok"
    assert (small["soql"], small["dml"]) == (large["soql"], large["dml"])
    assert relations == 120


def test_naive_variant_hits_soql_limit():
    usage, relations, _ = run(2, naive=True)
    assert relations == 2 and usage["soql"] > run(2, naive=False)[0]["soql"]
    _, relations, outcome = run(120, naive=True)
    assert relations == 0
    assert outcome == "System.LimitException: Too many SOQL queries: 201"


def case(bookings, guests, soql, dml, relations=None, outcome="ok"):
    relations = bookings * guests if relations is None else relations
    return (bookings, guests, {"soql": soql, "dml": dml}, relations, outcome)


def test_benchmark_guard_accepts_flat_and_names_growth():
    flat = [case(1, 0, 4, 2), case(1, 1, 6, 3), case(200, 10, 6, 3)]
    assert governor.not_flat(flat) == []
    grown = governor.not_flat([case(1, 1, 6, 3), case(1, 50, 55, 3)])
    assert grown == ["SOQL/DML grow with guests or bookings: 1x1=6/3, 1x50=55/3"]
    assert governor.not_flat([case(1, 0, 7, 2), case(1, 1, 6, 3)]) == [
        "1x0 costs 7/2 SOQL/DML, more than 6/3 with guests"]
    assert governor.not_flat([case(1, 5, 6, 3, relations=4)]) == [
        "1x5 saved 4 EventRelations, expected 5"]
    failed = case(1, 5, 101, 2, 0, "System.LimitException: Too many SOQL queries: 101")
    assert governor.not_flat([failed]) == [
        "1x5 failed: System.LimitException: Too many SOQL queries: 101"]


def test_naive_generator_debulkifies_every_in_lookup():
    xml, changed = make_naive.generate()
    assert changed == ["Get_Contacts", "Get_Leads", "Get_Users"]
    assert b"<operator>In</operator>" not in xml
