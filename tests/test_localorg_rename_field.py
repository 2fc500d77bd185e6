"""`python -m localorg start --rename-field OLD=NEW`: an org whose package names a field
differently, refused with the allowed names when OLD or NEW is not a field name."""

import pytest

from localorg import calendly, cli


def test_a_renamed_field_replaces_the_stand_in_one():
    org = calendly.local_org(renames={"Calendly__EventHostEmails__c": "Calendly__CoHosts__c"})
    fields = org.describe("Calendly__CalendlyAction__c").fields
    assert "calendly__cohosts__c" in fields
    assert "calendly__eventhostemails__c" not in fields


@pytest.mark.parametrize(
    "value, says",
    [
        ("Calendly__Nope__c=Calendly__X__c", "OLD one of the stand-in's fields: "),
        ("Calendly__EventGuestEmails__c", "give OLD=NEW"),
        ("Calendly__EventGuestEmails__c=Guests__c", "NEW must be a field API name of the "
                                                    "package, like Calendly__GuestEmails__c"),
    ],
)
def test_a_bad_rename_is_refused_naming_the_allowed_form(value, says, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.parser().parse_args(["start", "--rename-field", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert says in err and value in err
