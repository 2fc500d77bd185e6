"""Record store: ids, Salesforce validation rules, transactions, queries, limits. Schema,
packages, flows and threads: test_store_schema.py."""


import pytest

from localorg import ids
from localorg.backend import ADMIN_EMAIL
from localorg.calendly import local_org
from localorg.conditions import And, Cmp, Not, Or
from localorg.errors import DmlError, LimitException, SalesforceError
from localorg.limits import Usage
from localorg.schema import FieldDef
from localorg.users import complete_users

START, END = "2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z"


@pytest.fixture
def org():
    return local_org()


def insert(org, sobject, records):
    with org.transaction() as txn:
        if sobject == "User":
            records = complete_users(txn, records)
        return txn.insert(sobject, records)


def event(who=None, **extra):
    rec = {"Subject": "Demo", "StartDateTime": START, "EndDateTime": END, **extra}
    if who:
        rec["WhoId"] = who
    return rec


def code_of(excinfo):
    return excinfo.value.code


# ----- ids -----------------------------------------------------------------------------------


def test_checksum_matches_salesforce_example():
    assert ids.to18("a0D30000001n7Pi") == "a0D30000001n7PiEAI"
    assert ids.to18("a0D30000001n7PiEAI") == "a0D30000001n7PiEAI"


def test_malformed_ids_rejected():
    for bad in ("a0D30000001n7Pi123", "short", "a0D30000001n7P!", None,
                "a0D30000001n7Pi\n", "a0D30000001n7PiEAI\n"):  # no line end after an id
        assert not ids.is_id(bad)


def test_record_ids_have_prefix_and_valid_suffix(org):
    cid = insert(org, "Contact", [{"LastName": "Lee"}])[0]
    assert cid.startswith("003") and len(cid) == 18 and ids.to18(cid[:15]) == cid


def test_15_char_id_accepted_as_input(org):
    cid = insert(org, "Contact", [{"LastName": "Lee"}])[0]
    eid = insert(org, "Event", [event(who=cid[:15])])[0]
    with org.transaction() as txn:
        assert txn.retrieve("Event", eid[:15])["WhoId"] == cid


# ----- required fields, lengths, unknown names -----------------------------------------------


@pytest.mark.parametrize(
    "sobject,record,missing",
    [
        ("Contact", {"FirstName": "A"}, ["LastName"]),
        ("Lead", {"FirstName": "A"}, ["LastName", "Company"]),
        ("Event", {"Subject": "x"}, ["ActivityDateTime", "DurationInMinutes"]),
        ("Event", {"Subject": "x", "StartDateTime": START}, ["DurationInMinutes"]),
    ],
)
def test_required_fields_missing(org, sobject, record, missing):
    with pytest.raises(DmlError) as exc:
        insert(org, sobject, [record])
    assert code_of(exc) == "REQUIRED_FIELD_MISSING"
    assert sorted(exc.value.fields) == sorted(missing)


def test_required_fields_present(org):
    insert(org, "Lead", [{"LastName": "L", "Company": "C"}])
    eid = insert(
        org, "Event", [{"Subject": "x", "ActivityDateTime": START, "DurationInMinutes": 45}]
    )[0]
    with org.transaction() as txn:
        rec = txn.retrieve("Event", eid)
    assert rec["EndDateTime"] == "2026-03-02T10:45:00.000+0000" and rec["ShowAs"] == "Busy"


def test_subject_too_long(org):
    insert(org, "Event", [event(Subject="x" * 255)])
    with pytest.raises(DmlError) as exc:
        insert(org, "Event", [event(Subject="x" * 256)])
    assert code_of(exc) == "STRING_TOO_LONG" and "max length=255" in exc.value.message


def test_unknown_field_and_object(org):
    with pytest.raises(SalesforceError) as exc:
        insert(org, "Contact", [{"LastName": "A", "Nope__c": 1}])
    assert code_of(exc) == "INVALID_FIELD"
    with pytest.raises(SalesforceError) as exc:
        insert(org, "Widget__c", [{"Name": "A"}])
    assert code_of(exc) == "INVALID_TYPE"


def test_read_only_field_rejected(org):
    with pytest.raises(DmlError) as exc:
        insert(org, "Contact", [{"LastName": "A", "Name": "X"}])
    assert code_of(exc) == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_bad_reference_ids(org):
    with pytest.raises(DmlError) as exc:
        insert(org, "Event", [event(who="not-an-id")])
    assert code_of(exc) == "MALFORMED_ID"
    with pytest.raises(DmlError) as exc:
        insert(org, "Event", [event(who=ids.make_id("003", 999))])
    assert code_of(exc) == "INVALID_CROSS_REFERENCE_KEY"
    with pytest.raises(DmlError) as exc:
        insert(org, "Event", [event(who=org.default_user_id)])
    assert code_of(exc) == "FIELD_INTEGRITY_EXCEPTION"


def test_email_format(org):
    insert(org, "Contact", [{"LastName": "A", "Email": "a.b+c@x.test"}])
    with pytest.raises(DmlError) as exc:
        insert(org, "Contact", [{"LastName": "A", "Email": "not an email"}])
    assert code_of(exc) == "INVALID_EMAIL_ADDRESS"


def test_restricted_picklist(org):
    insert(org, "Event", [event(ShowAs="Free")])
    with pytest.raises(DmlError) as exc:
        insert(org, "Event", [event(ShowAs="Sleeping")])
    assert code_of(exc) == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_unique_custom_field(org):
    org.add_custom_field("Contact", FieldDef("Badge__c", "string", length=10, unique=True))
    insert(org, "Contact", [{"LastName": "A", "Badge__c": "B1"}, {"LastName": "B"}])
    with pytest.raises(DmlError) as exc:
        insert(org, "Contact", [{"LastName": "C", "Badge__c": "b1"}])
    assert code_of(exc) == "DUPLICATE_VALUE"


def test_duplicate_username_ignores_case(org):
    insert(org, "User", [{"LastName": "A", "Email": "a@x.test", "Username": "a@x.test.local"}])
    insert(org, "User", [{"LastName": "B", "Email": "a@x.test", "Username": "b@x.test.local"}])
    with pytest.raises(DmlError) as exc:
        insert(org, "User", [{"LastName": "C", "Email": "c@x.test",
                              "Username": "A@X.test.local"}])
    assert code_of(exc) == "DUPLICATE_USERNAME" and exc.value.fields == ["Username"]
    assert "To resolve, use a different username" in exc.value.message


def test_event_end_not_before_start(org):
    insert(org, "Event", [event(EndDateTime=START)])  # zero minutes: allowed
    with pytest.raises(DmlError) as exc:
        insert(org, "Event", [event(EndDateTime="2026-03-02T09:59:00Z")])
    assert code_of(exc) == "FIELD_INTEGRITY_EXCEPTION" and exc.value.fields == ["EndDateTime"]


def test_update_needs_an_id(org):
    cid = insert(org, "Contact", [{"LastName": "A"}])[0]
    with org.transaction() as txn:
        txn.update("Contact", [{"Id": cid, "LastName": "B"}])
        with pytest.raises(DmlError) as exc:
            txn.update("Contact", [{"LastName": "C"}])
    assert code_of(exc) == "MISSING_ARGUMENT" and exc.value.fields == ["Id"]


def test_bad_value_type(org):
    with pytest.raises(DmlError) as exc:
        insert(org, "Event", [event(StartDateTime="tomorrow")])
    assert code_of(exc) == "INVALID_TYPE_ON_FIELD_IN_RECORD"


# ----- Shared Activities rules ---------------------------------------------------------------


def relations(org, event_id):
    with org.transaction() as txn:
        return txn.query(
            "EventRelation",
            ["RelationId", "IsParent", "IsInvitee", "Relation.Type"],
            where=Cmp("EventId", "=", event_id),
        )


def test_whoid_creates_parent_relation(org):
    cid = insert(org, "Contact", [{"LastName": "W"}])[0]
    eid = insert(org, "Event", [event(who=cid)])[0]
    assert relations(org, eid) == [
        {
            "RelationId": cid,
            "IsParent": True,
            "IsInvitee": False,
            # RelationId is polymorphic: the parent is the Name object, its url the Contact's
            "Relation": {"attributes": {"type": "Name", "urlType": "Contact"}, "Type": "Contact"},
        }
    ]
    assert relations(org, insert(org, "Event", [event()])[0]) == []


def test_duplicate_event_relation(org):
    cid, other = insert(org, "Contact", [{"LastName": "W"}, {"LastName": "X"}])
    eid = insert(org, "Event", [event(who=cid)])[0]
    insert(org, "EventRelation", [{"EventId": eid, "RelationId": other}])
    with pytest.raises(DmlError) as exc:
        insert(org, "EventRelation", [{"EventId": eid, "RelationId": other}])
    assert code_of(exc) == "DUPLICATE_VALUE"
    with pytest.raises(DmlError) as exc:
        insert(org, "EventRelation", [{"EventId": eid, "RelationId": cid, "IsInvitee": True}])
    assert code_of(exc) == "DUPLICATE_VALUE"


def test_invitee_defaults(org):
    a, b = insert(org, "Contact", [{"LastName": "A"}, {"LastName": "B"}])
    eid = insert(org, "Event", [event()])[0]
    insert(
        org,
        "EventRelation",
        [{"EventId": eid, "RelationId": a}, {"EventId": eid, "RelationId": b, "IsParent": True}],
    )
    got = {r["RelationId"]: r["IsInvitee"] for r in relations(org, eid)}
    assert got == {a: True, b: False}


def test_user_relation_cannot_be_parent(org):
    eid = insert(org, "Event", [event()])[0]
    with pytest.raises(DmlError) as exc:
        insert(
            org,
            "EventRelation",
            [{"EventId": eid, "RelationId": org.default_user_id, "IsParent": True}],
        )
    assert code_of(exc) == "FIELD_INTEGRITY_EXCEPTION"
    insert(
        org,
        "EventRelation",
        [{"EventId": eid, "RelationId": org.default_user_id, "IsInvitee": True}],
    )


def test_fifty_contacts_cap(org):
    contacts = insert(org, "Contact", [{"LastName": f"C{i}"} for i in range(51)])
    eid = insert(org, "Event", [event(who=contacts[0])])[0]
    rels = [
        {"EventId": eid, "RelationId": c, "IsParent": True, "IsInvitee": True}
        for c in contacts[1:50]
    ]
    insert(org, "EventRelation", rels)  # 50 parents: allowed
    with pytest.raises(DmlError) as exc:
        insert(
            org, "EventRelation", [{"EventId": eid, "RelationId": contacts[50], "IsParent": True}]
        )
    assert code_of(exc) == "LIMIT_EXCEEDED"
    insert(
        org,
        "EventRelation",
        [{"EventId": eid, "RelationId": contacts[50], "IsParent": False, "IsInvitee": True}],
    )


def test_lead_parent_excludes_other_parents(org):
    lead = insert(org, "Lead", [{"LastName": "L", "Company": "C"}])[0]
    other = insert(org, "Lead", [{"LastName": "M", "Company": "C"}])[0]
    contact = insert(org, "Contact", [{"LastName": "W"}])[0]
    eid = insert(org, "Event", [event(who=lead)])[0]
    for rid in (contact, other):
        with pytest.raises(DmlError) as exc:
            insert(org, "EventRelation", [{"EventId": eid, "RelationId": rid, "IsParent": True}])
        assert code_of(exc) == "FIELD_INTEGRITY_EXCEPTION"
    insert(org, "EventRelation", [{"EventId": eid, "RelationId": contact, "IsInvitee": True}])
    eid2 = insert(org, "Event", [event(who=contact)])[0]
    with pytest.raises(DmlError):
        insert(org, "EventRelation", [{"EventId": eid2, "RelationId": lead, "IsParent": True}])


def test_delete_event_cascades_relations(org):
    cid = insert(org, "Contact", [{"LastName": "W"}])[0]
    eid = insert(org, "Event", [event(who=cid)])[0]
    with org.transaction() as txn:
        txn.delete("Event", [eid])
    assert relations(org, eid) == []


# ----- transactions --------------------------------------------------------------------------


def count(org, sobject):
    with org.transaction() as txn:
        return txn.count(sobject)


def test_transaction_rolls_back_everything(org):
    with pytest.raises(DmlError):
        with org.transaction() as txn:
            txn.insert("Contact", [{"LastName": "kept?"}])
            txn.insert("Contact", [{"FirstName": "no last name"}])
    assert count(org, "Contact") == 0
    with org.transaction() as txn:
        txn.insert("Contact", [{"LastName": "kept"}])
    assert count(org, "Contact") == 1


def test_statement_is_all_or_none_and_partial_mode(org):
    with pytest.raises(DmlError) as exc:
        insert(org, "Contact", [{"LastName": "ok"}, {"FirstName": "bad"}])
    assert exc.value.index == 1 and count(org, "Contact") == 0
    with org.transaction() as txn:
        results = txn.insert(
            "Contact", [{"LastName": "ok"}, {"FirstName": "bad"}], all_or_none=False
        )
    assert [r["success"] for r in results] == [True, False]
    assert results[1]["errors"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert count(org, "Contact") == 1


def test_update_and_delete(org):
    cid = insert(org, "Contact", [{"LastName": "Old"}])[0]
    with org.transaction() as txn:
        txn.update("Contact", [{"Id": cid, "LastName": "New", "FirstName": "Ann"}])
        assert txn.retrieve("Contact", cid)["Name"] == "Ann New"
        txn.delete("Contact", [cid])
        with pytest.raises(DmlError) as exc:
            txn.update("Contact", [{"Id": cid, "LastName": "gone"}])
        assert code_of(exc) == "ENTITY_IS_DELETED"


def test_after_insert_handler_runs_in_transaction(org):
    seen = []

    def handler(txn, sobject, records):
        seen.append((sobject, len(records)))
        if sobject == "Contact":
            txn.insert("Lead", [{"LastName": r["LastName"], "Company": "X"} for r in records])

    org.on_after_insert(handler)
    insert(org, "Contact", [{"LastName": "A"}, {"LastName": "B"}])
    assert seen == [("Contact", 2), ("Lead", 2)] and count(org, "Lead") == 2


def test_recursive_trigger_stops_at_depth(org):
    org.on_after_insert(lambda txn, s, recs: txn.insert("Contact", [{"LastName": "again"}]))
    with pytest.raises(DmlError) as exc:
        insert(org, "Contact", [{"LastName": "A"}])
    assert "maximum trigger depth exceeded" in exc.value.message
    assert count(org, "Contact") == 0


def test_nested_transaction_refused(org):
    with org.transaction():
        with pytest.raises(RuntimeError):
            with org.transaction():
                pass


# ----- governor limits -----------------------------------------------------------------------


def test_soql_limit(org):
    with org.transaction() as txn:
        for _ in range(100):
            txn.query("Contact", ["Id"])
        assert txn.usage.soql == 100
    with pytest.raises(LimitException) as exc:
        with org.transaction() as txn:
            txn.insert("Contact", [{"LastName": "rolled back"}])
            for _ in range(101):
                txn.query("Contact", ["Id"])
    assert str(exc.value) == "System.LimitException: Too many SOQL queries: 101"
    assert count(org, "Contact") == 0


def test_dml_limits(org):
    with pytest.raises(LimitException) as exc:
        with org.transaction() as txn:
            for _ in range(151):
                txn.insert("Contact", [{"LastName": "x"}])
    assert exc.value.message == "Too many DML statements: 151"
    with pytest.raises(LimitException) as exc:
        with org.transaction() as txn:
            txn.insert("Lead", [{"LastName": "x", "Company": "c"}] * 10001)
    assert exc.value.message == "Too many DML rows: 10001"


def test_query_rows_limit():
    usage = Usage()
    usage.count_query(50_000)
    assert usage.query_rows == 50_000
    with pytest.raises(LimitException) as exc:
        usage.count_query(1)
    assert str(exc.value) == "System.LimitException: Too many query rows: 50001"
    with pytest.raises(LimitException) as exc:
        Usage().count_query(60_000)  # one query past the limit by many rows
    assert exc.value.message == "Too many query rows: 50001"
    with pytest.raises(LimitException) as exc:
        Usage().count_dml(12_000)
    assert exc.value.message == "Too many DML rows: 10001"


def test_usage_counts_rows(org):
    with org.transaction() as txn:
        txn.insert("Contact", [{"LastName": str(i)} for i in range(5)])
        txn.query("Contact", ["Id"], limit=3)
        assert txn.usage.as_dict() == {"soql": 1, "query_rows": 3, "dml": 1, "dml_rows": 5}


# ----- queries -------------------------------------------------------------------------------


@pytest.fixture
def people(org):
    org.allow_audit_fields(True)  # the dates below are set by a data load with the permission
    insert(
        org,
        "Contact",
        [
            {
                "LastName": "Ann",
                "Email": "Ann@Acme.test",
                "LastModifiedDate": "2026-01-01T00:00:00Z",
            },
            {
                "LastName": "Bob",
                "Email": "bob@acme.test",
                "LastModifiedDate": "2026-02-01T00:00:00Z",
            },
            {"LastName": "Cy", "LastModifiedDate": "2026-03-01T00:00:00Z"},
        ],
    )
    return org


def names(org, where=None, order_by=None, **kw):
    with org.transaction() as txn:
        return [
            r["LastName"]
            for r in txn.query("Contact", ["LastName"], where=where, order_by=order_by, **kw)
        ]


def test_query_text_is_case_insensitive(people):
    assert names(people, Cmp("Email", "=", "ann@acme.TEST")) == ["Ann"]
    assert names(people, Cmp("Email", "IN", ["ANN@acme.test", "BOB@ACME.TEST"])) == ["Ann", "Bob"]
    assert names(people, Cmp("Email", "LIKE", "%@ACME%")) == ["Ann", "Bob"]
    assert names(people, Cmp("Email", "=", "nobody@acme.test")) == []


def test_query_null_semantics(people):
    assert names(people, Cmp("Email", "=", None)) == ["Cy"]
    assert names(people, Cmp("Email", "!=", "ann@acme.test")) == ["Bob", "Cy"]
    assert names(people, Cmp("Email", "NOT IN", ["ann@acme.test"])) == ["Bob", "Cy"]
    assert names(people, Cmp("Email", ">", "a")) == ["Ann", "Bob"]


def test_query_logic_order_limit(people):
    cond = Or(
        Cmp("LastName", "=", "Cy"), And(Cmp("Email", "!=", None), Not(Cmp("LastName", "=", "Ann")))
    )
    assert names(people, cond) == ["Bob", "Cy"]
    assert names(people, order_by=[("LastModifiedDate", True, True)]) == ["Cy", "Bob", "Ann"]
    assert names(people, order_by=[("Email", False, None)]) == ["Cy", "Ann", "Bob"]
    assert names(people, order_by=[("Email", False, True)], limit=2, offset=1) == ["Bob", "Cy"]
    assert names(people, Cmp("LastModifiedDate", ">=", "2026-02-01T00:00:00Z")) == ["Bob", "Cy"]


def test_query_parent_fields(people):
    with people.transaction() as txn:
        rows = txn.query("Contact", ["Owner.Email"], where=Cmp("Owner.Email", "=", ADMIN_EMAIL))
    assert len(rows) == 3 and rows[0]["Owner"]["Email"] == ADMIN_EMAIL
    with pytest.raises(SalesforceError) as exc:
        with people.transaction() as txn:
            txn.query("Contact", ["Owner.Nope"])
    assert code_of(exc) == "INVALID_FIELD"
    with pytest.raises(SalesforceError) as exc:
        with people.transaction() as txn:
            txn.query("Contact", ["Id"], where=Cmp("OwnerId", "=", "bad"))
    assert code_of(exc) == "INVALID_QUERY_FILTER_OPERATOR"
