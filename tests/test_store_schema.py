"""Record store: schema and installed packages, flow definitions, metadata components, and
transactions across threads. The rest of the store's tests are in test_store.py."""

import threading

import pytest

from localorg import calendly
from localorg.backend import ADMIN_EMAIL, Org, Package
from localorg.calendly import local_org
from localorg.errors import DmlError, SalesforceError
from localorg.schema import FieldDef
from tests.test_store import code_of, count, insert


@pytest.fixture
def org():
    return local_org()


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
