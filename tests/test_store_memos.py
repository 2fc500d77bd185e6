"""What the store remembers within a transaction (ids known to exist, an Event's relations,
the id sequence) goes when a delete or a rollback makes it untrue, and the sequence reaches
the file."""

import pytest

from localorg import ids
from localorg.calendly import local_org
from localorg.errors import DmlError

START, END = "2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z"


@pytest.fixture
def org():
    return local_org()


def event(**fields):
    return {"Subject": "Call", "StartDateTime": START, "EndDateTime": END, **fields}


def test_a_record_deleted_in_the_transaction_is_no_longer_known_to_exist(org):
    with org.transaction() as txn:
        (who,) = txn.insert("Contact", [{"LastName": "Gone"}])
        txn.insert("Event", [event(WhoId=who)])  # `who` looked up: known to exist
        txn.delete("Contact", [who])
        with pytest.raises(DmlError) as exc:
            txn.insert("Event", [event(WhoId=who)])
        assert exc.value.code == "INVALID_CROSS_REFERENCE_KEY"


def number(record_id):
    """The sequence number `ids.make_id` built `record_id` from."""
    n = 0
    for char in record_id[5:15]:
        n = n * 62 + ids._BASE62.index(char)
    return n


def test_an_event_of_a_rolled_back_statement_is_no_longer_known_to_exist(org):
    with org.transaction() as txn:
        (before,) = txn.insert("Event", [event()])
        with pytest.raises(DmlError):
            txn.insert("Event", [event(), event(EndDateTime="not a date")])
        rolled_back = ids.make_id(before[:3], number(before) + 1)
        with pytest.raises(DmlError) as exc:
            txn.insert("EventRelation", [{"EventId": rolled_back,
                                          "RelationId": org.default_user_id}])
        assert exc.value.code == "INVALID_CROSS_REFERENCE_KEY"


def test_ids_reserved_before_an_inner_rollback_are_not_given_again(org):
    with org.transaction() as txn:
        (before,) = txn.insert("Contact", [{"LastName": "A"}])
        with pytest.raises(DmlError):
            txn.insert("Contact", [{"LastName": "B"}, {"FirstName": "No last name"}])
        (after,) = txn.insert("Contact", [{"LastName": "C"}])
    assert number(after) == number(before) + 3


def test_a_failed_record_of_a_partial_statement_keeps_its_id_a_rolled_back_transaction_not(org):
    """The id the failed record of a partial statement was given is not given again in the
    transaction; the ids of a transaction rolled back as a whole are (docs/fidelity.md)."""
    with org.transaction() as txn:
        (before,) = txn.insert("Contact", [{"LastName": "A"}])
        results = txn.insert("Contact", [{"LastName": "B"}, {"FirstName": "No last name"},
                                         {"LastName": "C"}], all_or_none=False)
        assert [number(r["id"]) if r["success"] else None for r in results] == [
            number(before) + 1, None, number(before) + 3]
        (after,) = txn.insert("Contact", [{"LastName": "D"}])
        assert number(after) == number(before) + 4
    with pytest.raises(RuntimeError), org.transaction() as txn:
        (undone,) = txn.insert("Contact", [{"LastName": "E"}])
        raise RuntimeError("roll the transaction back")
    with org.transaction() as txn:
        (again,) = txn.insert("Contact", [{"LastName": "F"}])
        assert names(txn) == ["A", "B", "C", "D", "F"]
    assert again == undone and number(again) == number(before) + 5


def names(txn):
    return sorted(r["LastName"] for r in txn.query("Contact", ["LastName"]))


def test_the_sequence_reaches_the_file_when_the_transaction_commits(tmp_path):
    path = tmp_path / "org.db"
    with local_org(path).transaction() as txn:
        (first,) = txn.insert("Contact", [{"LastName": "A"}])
    with local_org(path).transaction() as txn:
        (second,) = txn.insert("Contact", [{"LastName": "B"}])
    assert number(second) == number(first) + 1


def test_the_sequence_is_saved_after_a_write_left_its_savepoint_open(org, monkeypatch):
    """An exception other than a DML error skips a record's own savepoint rollback; the
    transaction's rollback ends that savepoint too, and the next commit saves the sequence."""
    from localorg.backend.rules.eventrelation import EventRelation

    def broken(self, txn, rel):
        raise RuntimeError("a bug in a rule")

    with org.transaction() as txn:
        (who,) = txn.insert("Contact", [{"LastName": "Invitee"}])
    with monkeypatch.context() as patch:
        patch.setattr(EventRelation, "validate", broken)
        with pytest.raises(RuntimeError), org.transaction() as txn:
            txn.insert("Event", [event(WhoId=who)], all_or_none=False)
    with org.transaction() as txn:
        (last,) = txn.insert("Contact", [{"LastName": "Last"}])
    assert org.db.meta("seq") == number(last)


def test_relations_of_a_rolled_back_statement_are_forgotten(org):
    with org.transaction() as txn:
        (who,) = txn.insert("Contact", [{"LastName": "Invitee"}])
        (eid,) = txn.insert("Event", [event()])
        with pytest.raises(DmlError):
            txn.insert("EventRelation", [{"EventId": eid, "RelationId": who},
                                         {"EventId": eid, "RelationId": "not an id"}])
        txn.insert("EventRelation", [{"EventId": eid, "RelationId": who}])  # no duplicate
        assert [r["RelationId"] for r in txn.query("EventRelation", ["RelationId"])] == [who]
