"""calendly_patch_event_layout: add Attendees in place, never twice, no deploy when patched."""

import pytest
from cumulusci.core.exceptions import TaskOptionsError
from cumulusci.salesforce_api.exceptions import MetadataApiError
from lxml import etree

from metacheck.schema import validate
from tasks.event_layout import (
    ATTENDEES_FIELD,
    AddAttendeesToEventLayouts,
    EventLayoutError,
)
from tests.fixtures.tasks.task_fake_org import MD, event_layouts, make_task

# Salesforce's stock Event Layout, and the same plus Attendees (force-app's layout).
STOCK, PATCHED = event_layouts()


def fields(xml):
    return [el.text for el in etree.fromstring(xml).iter(f"{{{MD}}}field")]


@pytest.fixture
def org(fake_org):
    fake_org.layouts = {
        "Event-Event Layout": STOCK,
        "Event-Sales Event Layout": STOCK,
        "Contact-Contact Layout": b'<Layout xmlns="http://soap.sforce.com/2006/04/metadata"/>',
    }
    return fake_org


def run(**options):
    task = make_task(AddAttendeesToEventLayouts, options)
    task()
    return task


def test_fixture_really_is_unpatched():
    assert ATTENDEES_FIELD not in fields(STOCK)
    assert fields(PATCHED).count(ATTENDEES_FIELD) == 1


def test_adds_the_field_once_where_the_project_layout_has_it(org):
    task = run(layouts="Event-Event Layout")
    layout = org.layouts["Event-Event Layout"]
    names = fields(layout)
    assert names.count("Attendees") == 1
    assert names[names.index("WhatId") + 1] == "Attendees"
    assert fields(layout) == fields(PATCHED)  # same place as in force-app's layout
    assert task.return_values["patched"] == ["Event-Event Layout"]
    # Everything else is as it was: only one layoutItem more.
    assert len(names) == len(fields(STOCK)) + 1
    assert org.layouts["Event-Sales Event Layout"] == STOCK
    assert validate(layout, "Layout") == []


def test_layout_without_whatid_gets_the_stock_default_position(org):
    minimal = (
        f'<Layout xmlns="{MD}"><layoutSections><customLabel>false</customLabel>'
        "<detailHeading>false</detailHeading><editHeading>true</editHeading>"
        "<layoutColumns><layoutItems><behavior>Required</behavior><field>Subject</field>"
        "</layoutItems></layoutColumns><layoutColumns><layoutItems><behavior>Edit</behavior>"
        "<field>Location</field></layoutItems></layoutColumns><style>TwoColumnsTopToBottom"
        "</style></layoutSections></Layout>"
    ).encode()
    org.layouts["Event-Minimal"] = minimal
    run(layouts="Event-Minimal")
    assert fields(org.layouts["Event-Minimal"]) == ["Subject", "Attendees", "Location"]


def test_rerun_makes_no_deploy(org):
    run(layouts="Event-Event Layout")
    task = run(layouts="Event-Event Layout")
    assert task.return_values["patched"] == []
    assert task.return_values["already_patched"] == ["Event-Event Layout"]
    assert len(org.write_calls(org.mock.calls)) == 1
    assert fields(org.layouts["Event-Event Layout"]).count("Attendees") == 1


def test_all_layouts_patches_every_event_layout_only(org):
    org.layouts["Event-Sales Event Layout"] = PATCHED
    task = run(all_layouts="True")
    assert task.return_values["patched"] == ["Event-Event Layout"]
    assert task.return_values["already_patched"] == ["Event-Sales Event Layout"]
    assert fields(org.layouts["Event-Sales Event Layout"]).count("Attendees") == 1
    assert org.layouts["Contact-Contact Layout"].endswith(b"/>")


def test_missing_layout_names_it_and_lists_the_real_ones(org):
    with pytest.raises(EventLayoutError) as err:
        run(layouts="Event-Event Layout, Event-Missing")
    assert str(err.value) == (
        "Event layout(s) not found: Event-Missing. Event layouts in org test: "
        "Event-Event Layout, Event-Sales Event Layout."
    )
    assert org.write_calls(org.mock.calls) == []
    assert org.layouts["Event-Event Layout"] == STOCK


def test_org_without_event_layouts(org):
    org.layouts = {}
    with pytest.raises(EventLayoutError, match="has no Event layouts"):
        run(all_layouts=True)


def test_dry_run_reports_and_writes_nothing(org):
    task = run(all_layouts=True, dry_run="True")
    assert task.return_values["would_patch"] == ["Event-Event Layout", "Event-Sales Event Layout"]
    assert task.return_values["patched"] == []
    assert org.write_calls(org.mock.calls) == []
    assert org.layouts["Event-Event Layout"] == STOCK


def test_refused_deploy_changes_nothing_and_can_be_rerun(org):
    org.fail_next(
        "deploy_result", ("Layout", "Event-Event Layout", "Field Attendees does not exist.")
    )
    with pytest.raises(MetadataApiError, match="Field Attendees does not exist"):
        run(layouts="Event-Event Layout")
    assert org.layouts["Event-Event Layout"] == STOCK
    run(layouts="Event-Event Layout")
    assert fields(org.layouts["Event-Event Layout"]).count("Attendees") == 1


def test_http_500_mid_run_leaves_layouts_unchanged(org):
    org.fail_next("deploy", (500, {}, "<html>Internal Server Error</html>"))
    with pytest.raises(MetadataApiError, match="HTTP ERROR 500"):
        run(all_layouts=True)
    assert org.layouts["Event-Event Layout"] == STOCK
    assert org.layouts["Event-Sales Event Layout"] == STOCK


@pytest.mark.parametrize(
    "options, message",
    [
        ({}, "Give layouts"),
        ({"layouts": "Contact-Contact Layout"}, "Not Event layouts: Contact-Contact Layout"),
        ({"all_layouts": "perhaps"}, "perhaps"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(TaskOptionsError, match=message):
        make_task(AddAttendeesToEventLayouts, options)
