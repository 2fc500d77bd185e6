"""Tooling objects are read-only virtual objects queried by the store's own engine."""

import pytest

from localorg.backend import query, tooling
from localorg.calendly import local_org
from localorg.conditions import Cmp
from localorg.errors import SalesforceError

FLOW = b"""<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata"><label>{label}</label>
<processType>AutoLaunchedFlow</processType><status>{status}</status></Flow>"""


@pytest.fixture
def org():
    org = local_org()
    org.deploy_flow("Beta", FLOW.replace(b"{label}", b"B").replace(b"{status}", b"Active"))
    org.deploy_flow("alpha", FLOW.replace(b"{label}", b"A").replace(b"{status}", b"Draft"))
    org.deploy_flow("alpha", FLOW.replace(b"{label}", b"A").replace(b"{status}", b"Active"))
    return org


def find(org, sobject, fields, **options):
    with org.transaction() as txn:
        resolver, paths, rows = query.find(txn, sobject, fields, catalog=tooling.Catalog(org),
                                           **options)
        return [resolver.project(r, paths) for r in rows]


def test_parents_filters_and_sort_follow_soql(org):
    rows = find(org, "Flow", ["Definition.DeveloperName", "VersionNumber"],
                where=Cmp("definition.developername", "=", "ALPHA"),
                order_by=[("VersionNumber", True, None)])
    assert rows == [
        {"Definition": {"attributes": {"type": "FlowDefinition"}, "DeveloperName": "alpha"},
         "VersionNumber": v} for v in (2, 1)]
    names = find(org, "FlowDefinition", ["DeveloperName", "ActiveVersion.VersionNumber"],
                 order_by=[("DeveloperName", False, None)])
    assert [(r["DeveloperName"], r["ActiveVersion"]["VersionNumber"]) for r in names] == [
        ("alpha", 2), ("Beta", 1)]  # case-insensitive order, as SOQL sorts text


def test_a_fifteen_character_id_finds_its_record(org):
    [definition] = find(org, "FlowDefinition", ["Id"], where=Cmp("DeveloperName", "=", "Beta"))
    [again] = find(org, "FlowDefinition", ["DeveloperName"],
                   where=Cmp("Id", "=", definition["Id"][:15]))
    assert again == {"DeveloperName": "Beta"}


def test_the_installed_package_rows(org):
    [row] = find(org, "InstalledSubscriberPackage",
                 ["SubscriberPackage.NamespacePrefix", "SubscriberPackageVersion.MinorVersion"])
    assert row["SubscriberPackage"]["NamespacePrefix"] == "Calendly"
    assert row["SubscriberPackageVersion"]["MinorVersion"] == 5


def test_unknown_fields_and_objects_fail_as_in_the_data_api(org):
    with pytest.raises(SalesforceError, match="No such column 'Nope' on entity 'Flow'"):
        find(org, "Flow", ["Nope"])
    with pytest.raises(SalesforceError, match="Didn't understand relationship 'Owner'"):
        find(org, "Flow", ["Owner.Name"])
    with pytest.raises(SalesforceError) as exc:
        find(org, "Contact", ["Id"])  # a data API object is not a Tooling one
    assert exc.value.code == "INVALID_TYPE"


def test_the_data_api_and_tooling_name_an_unknown_relationship_alike(org):
    expected = ("Didn't understand relationship 'Foo' in field path. If you are attempting to use "
                "a custom relationship, be sure to append the '__r' after the custom relationship "
                "name. Please reference your WSDL or the describe call for the appropriate names.")
    with org.transaction() as txn, pytest.raises(SalesforceError) as data_api:
        txn.query("Contact", ["Foo.Name"])
    with pytest.raises(SalesforceError) as tooling_api:
        find(org, "Flow", ["Foo.Name"])
    assert data_api.value.message == tooling_api.value.message == expected
