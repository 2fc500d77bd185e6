"""Record store: ids, Salesforce validation rules, transactions, queries, limits, schema, flows."""

import threading

import pytest

from localorg import calendly, ids
from localorg.backend import ADMIN_EMAIL, Org, Package
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


# ----- schema and package --------------------------------------------------------------------


def test_calendly_standin_installed(org):
    action = org.describe("Calendly__CalendlyAction__c")
    assert action.custom and action.key_prefix.startswith("a")
    assert action.field("calendly__eventguestemails__c").type == "textarea"
    assert org.describe("Event").field("Calendly__InviteeUuid__c").external_id
    assert org.installed_packages()[0]["version"] == "2.5"
    bare = Org(":memory:")  # no package
    assert bare.installed_packages() == []
    with pytest.raises(SalesforceError):
        bare.describe("Calendly__CalendlyAction__c")


def test_a_package_is_installed_from_its_source_and_upgraded(tmp_path):
    path = tmp_path / "p.sqlite3"
    org = Org(path, packages=[Package("Calendly", "2.4", source=calendly.STANDIN)])
    assert org.installed_packages() == [
        {"namespace": "Calendly", "name": "Calendly", "version": "2.4"}]
    assert org.describe("Calendly__CalendlyAction__c").custom
    again = Org(path, packages=[Package("Other", "1.0", source=calendly.STANDIN)])
    assert [p["namespace"] for p in again.installed_packages()] == ["Calendly"]  # not new
    again.install_package(Package("Calendly", "2.5"))  # the source installed before
    assert calendly.installed_version(again) == "2.5"
    assert len(again.installed_packages()) == 1
    with pytest.raises(SalesforceError, match="no source folder"):
        again.install_package(Package("Acme", "1.0"))


@pytest.mark.parametrize("namespace, version", [("Calendly", "two"), ("Calendly", "2"),
                                                ("", "2.5"), ("1abc", "2.5")])
def test_a_package_needs_a_namespace_and_a_version_number(namespace, version):
    with pytest.raises(ValueError, match="package"):
        Package(namespace, version)


def test_custom_object_and_field_persist(tmp_path):
    path = tmp_path / "org.sqlite3"
    org = Org(path)
    org.define_object("Room__c", label="Room")
    org.add_custom_field("Room__c", FieldDef("Seats__c", "double"))
    org.add_custom_field(
        "Contact",
        b"""<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
        <fullName>Nick__c</fullName><label>Nick</label><length>10</length><type>Text</type>
        </CustomField>""",
    )
    insert(org, "Room__c", [{"Name": "A", "Seats__c": 4}])
    insert(org, "Contact", [{"LastName": "L", "Nick__c": "Al"}])
    with pytest.raises(DmlError) as exc:
        insert(org, "Contact", [{"LastName": "L", "Nick__c": "x" * 11}])
    assert code_of(exc) == "STRING_TOO_LONG"
    again = Org(path)
    assert again.org_id == org.org_id
    with again.transaction() as txn:
        assert txn.query("Room__c", ["Seats__c"]) == [{"Seats__c": 4}]
        assert txn.query("Contact", ["Nick__c"]) == [{"Nick__c": "Al"}]


PICKLIST = b"""<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">
<fullName>Tier__c</fullName><label>Tier</label><type>Picklist</type>
<valueSet>%s<valueSetDefinition><value><fullName>Gold</fullName></value></valueSetDefinition>
</valueSet></CustomField>"""


def test_custom_picklist_restricted_only_when_declared(org):
    org.add_custom_field("Contact", PICKLIST % b"<restricted>true</restricted>")
    insert(org, "Contact", [{"LastName": "A", "Tier__c": "Gold"}])
    with pytest.raises(DmlError) as exc:
        insert(org, "Contact", [{"LastName": "B", "Tier__c": "Tin"}])
    assert code_of(exc) == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    org.add_custom_field("Contact", PICKLIST % b"")
    insert(org, "Contact", [{"LastName": "B", "Tier__c": "Tin"}])


def test_default_admin_user(org):
    with org.transaction() as txn:
        admin = txn.retrieve("User", org.default_user_id)
    assert admin["Email"] == ADMIN_EMAIL and admin["IsActive"] is True


# ----- flow definitions ----------------------------------------------------------------------

FLOW = b"""<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata"><label>F</label>
<processType>AutoLaunchedFlow</processType><status>%s</status></Flow>"""


def test_flow_versions(org):
    assert org.deploy_flow("F", FLOW % b"Draft") == 1
    assert org.flows()[0]["active_version"] is None
    assert org.deploy_flow("F", FLOW % b"Active") == 2         # every deploy: a new version
    assert org.flows()[0]["active_version"] == 2
    assert org.deploy_flow("F", FLOW % b"Draft") == 3          # draft: active stays 2
    org.activate_flow("F", 3)
    flows = org.flows()[0]
    assert flows["versions"] == [{"version": 1, "status": "Draft"},
                                 {"version": 2, "status": "Obsolete"},
                                 {"version": 3, "status": "Active"}]
    assert org.flow_xml("F") == FLOW % b"Draft" and org.flow_xml("F", 2) == FLOW % b"Active"
    org.activate_flow("F", None)
    assert org.flows()[0]["active_version"] is None
    with pytest.raises(SalesforceError):
        org.activate_flow("F", 9)
    with pytest.raises(SalesforceError):
        org.activate_flow("Nope", 1)
    with pytest.raises(SalesforceError):
        org.deploy_flow("G", b"<notflow")


def test_metadata_components(tmp_path):
    org = Org(tmp_path / "c.sqlite3")
    assert org.component("Layout", "Event-Event Layout") is None
    org.save_component("Layout", "Event-Event Layout", "Event-Event Layout.layout", b"<v1/>")
    org.save_component("Layout", "Event-Event Layout", "Event-Event Layout.layout", "<v2/>")
    org.save_component("Layout", "Contact-Contact Layout", "Contact-Contact Layout.layout", b"<c/>")
    again = Org(tmp_path / "c.sqlite3")
    assert again.component("Layout", "Event-Event Layout")["body"] == b"<v2/>"
    assert [c["full_name"] for c in again.components("Layout")] == [
        "Contact-Contact Layout", "Event-Event Layout"]
    assert again.components("PermissionSet") == []


def test_threads_serialise_writes(tmp_path):
    org = Org(tmp_path / "t.sqlite3")

    def work():
        for _ in range(10):
            insert(org, "Contact", [{"LastName": "t"}])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count(org, "Contact") == 40


def test_reads_wait_for_another_threads_transaction(tmp_path):
    org = Org(tmp_path / "r.sqlite3")
    started = threading.Event()
    seen = []

    def writer():
        with pytest.raises(RuntimeError):
            with org.transaction():
                org.save_component("Layout", "L", "L.layout", b"<uncommitted/>")
                started.set()
                threading.Event().wait(0.2)
                raise RuntimeError("roll back")

    def reader():
        started.wait()
        seen.append(org.component("Layout", "L"))

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [None]
