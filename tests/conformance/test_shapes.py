"""The comparison the conformance tests rely on finds each kind of difference, and only those."""

from tests.conformance.shapes import differences, rename_keys, valid_id

RECORDED = {"totalSize": 1, "done": True, "queryLocator": None,
            "records": [{"attributes": {"type": "Contact"}, "Id": "0035500001H9ka4AAB",
                         "LastModifiedDate": "2011-07-07T00:37:00.000+0000"}],
            "fields": [{"name": "ShowAs", "nillable": True}, {"name": "Subject", "nillable": True}]}


def local(**changes):
    answer = {"totalSize": 1, "done": True, "queryLocator": None,
              "records": [{"attributes": {"type": "Contact"}, "Id": "0035g0000000002AAA",
                           "LastModifiedDate": "2026-01-02T03:04:05.000+0000"}],
              "fields": [{"name": "Subject", "nillable": True},
                         {"name": "ShowAs", "nillable": True}]}
    answer.update(changes)
    return answer


def test_same_shape_is_no_difference():
    read = {"records[*].Id": "id", "fields[*].nillable": "equal"}
    assert differences(local(), RECORDED, read) == []


def test_key_names_types_and_read_values_are_reported():
    found = differences(local(done="yes", extra=1, fields=[{"name": "ShowAs", "nillable": False}]),
                        RECORDED, {"fields[*].nillable": "equal"})
    assert found == [
        "done: string here, boolean on Salesforce ('yes' vs True)",
        "extra: not in Salesforce's answer (here: 1)",
        "fields[ShowAs].nillable: False here, True on Salesforce",
        "fields[Subject]: missing here",
    ]


def test_datetime_format_is_a_type():
    bad = local(records=[{"attributes": {"type": "Contact"}, "Id": "0035g0000000002AAA",
                          "LastModifiedDate": "2026-01-02T03:04:05Z"}])
    assert differences(bad, RECORDED) == [
        "records[0].LastModifiedDate: string here, datetime on Salesforce "
        "('2026-01-02T03:04:05Z' vs '2011-07-07T00:37:00.000+0000')"]


def test_ids_need_the_checksum_and_the_prefix():
    assert valid_id("0035500001H9ka4AAB") and not valid_id("0035500001H9ka4AAA")
    wrong = local(records=[{"attributes": {"type": "Contact"}, "Id": "00Q5g0000000002AAA",
                            "LastModifiedDate": "2026-01-02T03:04:05.000+0000"}])
    assert differences(wrong, RECORDED, {"records[*].Id": "id"}) == [
        "records[0].Id: '00Q5g0000000002AAA' is not a valid 18-character id with prefix '003'"]


def test_ignore_and_common_only_and_rename():
    answer = local(fields=[{"name": "ShowAs", "nillable": 1}, {"name": "Extra__c"}])
    assert differences(answer, RECORDED, ignore={"fields[ShowAs]": "why"},
                       common_only={"fields": "why"}) == []
    assert rename_keys({"a": [{"a": 1}]}, {"a": "b"}) == {"b": [{"b": 1}]}
