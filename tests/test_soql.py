"""SOQL text -> structured query, and Salesforce's error codes and positioned messages."""

import pytest

from localorg import soql
from localorg.conditions import And, Cmp, Not, Or
from localorg.errors import SalesforceError


def test_fields_relationships_where_order_limit_offset():
    q = soql.parse(
        "SELECT Id, Owner.Email, SubscriberPackage.NamespacePrefix FROM Contact "
        "WHERE (Email IN ('a@x.test', 'B@X.test') OR NOT Name LIKE 'Ann\\_%') "
        "AND IsDeleted = false AND CreatedDate >= 2026-01-02T10:00:00Z AND Title != null "
        "ORDER BY LastName DESC NULLS FIRST, FirstName LIMIT 5 OFFSET 10"
    )
    assert q.sobject == "Contact"
    assert q.fields == ["Id", "Owner.Email", "SubscriberPackage.NamespacePrefix"]
    assert q.where == And(
        Or(Cmp("Email", "IN", ["a@x.test", "B@X.test"]), Not(Cmp("Name", "LIKE", "Ann\\_%"))),
        Cmp("IsDeleted", "=", False),
        Cmp("CreatedDate", ">=", "2026-01-02T10:00:00.000+0000"),
        Cmp("Title", "!=", None),
    )
    assert q.order_by == [("LastName", True, False), ("FirstName", False, False)]
    assert (q.limit, q.offset) == (5, 10)


def test_count_escapes_numbers_and_default_null_order():
    q = soql.parse("select count() from Lead where Company = 'O\\'Brien \\\\ Co' and Rank__c < 2.5"
                   " order by Company desc")
    assert q.count and q.fields == []
    assert q.where == And(Cmp("Company", "=", "O'Brien \\ Co"), Cmp("Rank__c", "<", 2.5))
    assert q.order_by == [("Company", True, True)]  # DESC defaults to NULLS LAST


def test_datetime_offsets_are_normalised_to_utc():
    q = soql.parse("SELECT Id FROM Event WHERE StartDateTime > 2026-03-01T10:00:00+02:00")
    assert q.where == Cmp("StartDateTime", ">", "2026-03-01T08:00:00.000+0000")


@pytest.mark.parametrize(
    "text, column, token",
    [
        ("SELECT FROM Contact", 8, "'FROM'"),
        ("SELECT Id FROM Contact WHERE", 29, "<EOF>"),
        ("SELECT Id FROM Contact WHERE Email = ", 38, "<EOF>"),
        ("SELECT Id FROM Contact LIMIT x", 30, "'x'"),
        ("SELECT Id FROM Contact WHERE Email == 'a'", 37, "'='"),
    ],
)
def test_syntax_errors_are_malformed_query_with_position(text, column, token):
    with pytest.raises(SalesforceError) as err:
        soql.parse(text)
    assert err.value.code == "MALFORMED_QUERY"
    assert f"ERROR at Row:1:Column:{column}\nunexpected token: {token}" in err.value.message
    caret_line = err.value.message.split("\n")[2]
    assert caret_line == " " * (column - 1) + "^"


def test_bad_string_escape_is_malformed():
    with pytest.raises(SalesforceError) as err:
        soql.parse("SELECT Id FROM Contact WHERE Name = 'a\\qb'")
    assert err.value.code == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    "text, what",
    [
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "sub-queries"),
        ("SELECT COUNT(Id) FROM Contact", "COUNT(field)"),
        ("SELECT Id FROM Contact GROUP BY Id", "GROUP clauses"),
        ("SELECT Id FROM Contact ORDER BY Id LIMIT 5 FOR UPDATE", "FOR UPDATE clauses"),
        ("SELECT Id FROM Contact WHERE CreatedDate = TODAY", "date literal"),
        ("SELECT Id FROM Contact WHERE Id IN (SELECT WhoId FROM Event)", "semi-join"),
    ],
)
def test_unsupported_soql_is_not_implemented_never_ignored(text, what):
    with pytest.raises(SalesforceError) as err:
        soql.parse(text)
    assert err.value.code == "NOT_IMPLEMENTED"
    assert what in err.value.message


def test_for_view_and_for_reference_are_parsed_after_limit_and_offset():
    assert soql.parse("SELECT Id FROM User ORDER BY CreatedDate DESC LIMIT 1000 FOR VIEW").usage \
        == "VIEW"
    assert soql.parse("SELECT Id FROM Lead WHERE Id != null for reference").usage == "REFERENCE"
    assert soql.parse("SELECT Id FROM Lead").usage is None
    for text, column in [("SELECT Id FROM Lead FOR", 24),
                         ("SELECT Id FROM Lead FOR VIEW LIMIT 1", 30)]:
        with pytest.raises(SalesforceError) as err:
            soql.parse(text)
        assert err.value.code == "MALFORMED_QUERY"
        assert f"ERROR at Row:1:Column:{column}" in err.value.message


def test_invalid_field_and_type_messages_match_salesforce():
    q = soql.parse("SELECT Id, Foo FROM Contact")
    err = soql.invalid_field(q, "Foo", 11, "Contact", "Foo")
    assert err.code == "INVALID_FIELD"
    assert err.message == (
        "\nSELECT Id, Foo FROM Contact\n           ^\nERROR at Row:1:Column:12\n"
        "No such column 'Foo' on entity 'Contact'. If you are attempting to use a custom field, "
        "be sure to append the '__c' after the custom field name. Please reference your WSDL or "
        "the describe call for the appropriate names."
    )
    q = soql.parse("SELECT Id FROM Foo")
    err = soql.invalid_type(q)
    assert err.code == "INVALID_TYPE"
    assert err.message.startswith(
        "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Foo' is not supported."
    )
