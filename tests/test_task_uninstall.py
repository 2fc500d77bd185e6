"""calendly_uninstall on the embedded local org: after calendly_setup it leaves no project flow
and no Attendees on the layout it patched (listMetadata and a layout read, through cci's own
Metadata API calls); a second run changes nothing; a dry run writes nothing."""

import logging
import re

import pytest
from cumulusci.core.config import TaskConfig
from cumulusci.core.exceptions import TaskOptionsError
from cumulusci.salesforce_api.metadata import ApiListMetadata, ApiRetrieveUnpackaged

from tasks.uninstall import DeleteProjectMetadata
from tests.fixtures import inprocess
from tests.fixtures.tasks import task_fake_org

FLOWS = ["CreateEventTemplate", "Create_Event_Participant_Template", "Create_Event_Template"]
SYNC_FIELDS = ["Sync_Error__c", "Sync_Status__c", "Unmatched_Guest_Count__c",
               "Unmatched_Guest_Emails__c"]
FIELDS = [f"Calendly__CalendlyAction__c.{name}" for name in SYNC_FIELDS]
VIEWS = ["Calendly__CalendlyAction__c.Calendly_Sync_Problems",
         "Calendly__CalendlyAction__c.Calendly_Unmatched_Guests"]
LAYOUT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types><members>Event-Event Layout</members><name>Layout</name></types>
    <version>63.0</version>
</Package>
"""
DRY_RUN = {task: {"dry_run": True} for task in (
    "calendly_activate_flow", "calendly_unpatch_event_layout", "calendly_delete_metadata")}


@pytest.fixture
def local(local_org):
    with local_org("2.5") as live:
        yield live


def run_flow(project_config, cci_org, live, name, options=None):
    return inprocess.run_flow(project_config, cci_org(live), name, options)


def org_metadata(org_config, make_task):
    """(flow names from listMetadata, the Event layout's text from a retrieve), read as cci
    reads them."""
    task = metadata_task(org_config, make_task)
    flows = ApiListMetadata(task, "Flow", as_of_version="63.0")()
    layout = ApiRetrieveUnpackaged(task, LAYOUT_XML, "63.0")()
    text = layout.read("layouts/Event-Event Layout.layout").decode()
    # the org's own flows: a served local org also has the Calendly package's (Namespace__Name)
    own = (f["fullName"] for f in flows.get("Flow", []) if "__" not in f["fullName"])
    return sorted(own), text


def metadata_task(org_config, make_task):
    from cumulusci.tasks.salesforce import BaseSalesforceMetadataApiTask

    task = make_task(BaseSalesforceMetadataApiTask)
    task.org_config = org_config
    return task


def list_views(org_config, make_task) -> list:
    listing = ApiListMetadata(metadata_task(org_config, make_task), "ListView",
                              as_of_version="63.0")()
    return sorted(f["fullName"] for f in listing.get("ListView", []))


def test_uninstall_after_setup_leaves_the_org_as_before(project_config, cci_org, local,
                                                        make_task):
    flows_before, layout_before = org_metadata(cci_org(local), make_task)
    assert flows_before == [] and "<field>Attendees</field>" not in layout_before
    run_flow(project_config, cci_org, local, "calendly_setup")
    flows, layout = org_metadata(cci_org(local), make_task)
    assert flows == FLOWS and "<field>Attendees</field>" in layout
    assert list_views(cci_org(local), make_task) == VIEWS

    results = run_flow(project_config, cci_org, local, "calendly_uninstall")
    assert [v["changed"] for n, v in results if n == "calendly_activate_flow"] == [True] * 3
    assert dict(results)["calendly_unpatch_event_layout"]["removed"] == ["Event-Event Layout"]
    assert dict(results)["calendly_delete_metadata"]["deleted"] == {
        "Flow": FLOWS, "ListView": VIEWS, "CustomField": FIELDS}
    booking = local.org.describe("Calendly__CalendlyAction__c")
    assert not [name for name in SYNC_FIELDS if booking.has(name)]
    flows_after, layout_after = org_metadata(cci_org(local), make_task)
    assert flows_after == [] and list_views(cci_org(local), make_task) == []
    assert "<field>Attendees</field>" not in layout_after
    assert _fields(layout_after) == _fields(layout_before)

    writes = local.writes()
    again = run_flow(project_config, cci_org, local, "calendly_uninstall")
    assert local.writes() == writes  # a second run changes nothing
    assert dict(again)["calendly_delete_metadata"]["deleted"] == {}
    assert dict(again)["calendly_unpatch_event_layout"]["already_without"] == [
        "Event-Event Layout"]


def test_uninstall_dry_run_says_what_it_would_do_and_writes_nothing(
        project_config, cci_org, local, make_task, caplog):
    run_flow(project_config, cci_org, local, "calendly_setup")
    writes = local.writes()
    caplog.set_level(logging.INFO)
    results = run_flow(project_config, cci_org, local, "calendly_uninstall", DRY_RUN)
    assert local.writes() == writes
    assert [v["would_change_to"] for n, v in results if n == "calendly_activate_flow"] == [0] * 3
    assert dict(results)["calendly_unpatch_event_layout"]["would_remove"] == [
        "Event-Event Layout"]
    assert dict(results)["calendly_delete_metadata"]["would_delete"] == {
        "Flow": FLOWS, "ListView": VIEWS, "CustomField": FIELDS}
    assert "Dry run: would make flow CreateEventTemplate inactive" in caplog.text
    assert "<members>Create_Event_Template</members>" in caplog.text  # the manifest, logged
    flows, layout = org_metadata(cci_org(local), make_task)
    assert flows == FLOWS and "<field>Attendees</field>" in layout


def _fields(layout: str) -> list:
    return re.findall(r"<field>([^<]+)</field>", layout)


@pytest.mark.e2e
def test_cli_uninstall_after_dev_org_twice(tmp_path, monkeypatch, make_task):
    """The commands an admin runs: `cci flow run dev_org`, then `cci flow run calendly_uninstall`
    twice, on a fresh local org started in a temporary LOCALORG_HOME. The first uninstall runs
    as the `cci` command; dev_org (whose command line the README's test and `make demo` run)
    and the second uninstall run in this process, dev_org with its converted source in tmp_path
    rather than the checkout's src/, so no other test's dev_org waits for it."""
    from localorg import demo

    monkeypatch.setenv("LOCALORG_HOME", str(tmp_path / "localorg"))
    demo.localorg("start", "--fresh")
    try:
        env = demo.register_env()
        with inprocess.cci(env) as (project, org):
            flows_before, layout_before = org_metadata(org, make_task)
            src = str(tmp_path / "src")
            inprocess.run_flow(project, org, "dev_org", {
                "dx_convert_from": {"src_dir": src}, "update_package_xml": {"path": src},
                "deploy": {"path": src}, "uninstall_packaged_incremental": {"path": src}})
            assert org_metadata(org, make_task)[0] == FLOWS
            cci = [str(demo.ROOT / ".venv" / "bin" / "cci"), "flow", "run"]
            for run in range(2):
                if run == 0:
                    demo.run([*cci, "calendly_uninstall", "--org", "local"], env=env)
                else:
                    inprocess.run_flow(project, org, "calendly_uninstall")
                flows, layout = org_metadata(org, make_task)
                assert flows == flows_before == []
                assert _fields(layout) == _fields(layout_before)
                assert "<field>Attendees</field>" not in layout
                describe = org.salesforce_client.restful(
                    f"sobjects/{FIELDS[0].split('.')[0]}/describe")
                assert not {f["name"] for f in describe["fields"]} & set(SYNC_FIELDS)
    finally:
        demo.stop_org()


@pytest.mark.parametrize("options, says", [
    ({"path": "nowhere"}, r"path nowhere holds no \*.flow-meta.xml files"),
    ({"objects_path": "nowhere"}, "objects_path nowhere is not a folder"),
])
def test_bad_folders_are_named_before_anything_is_read(project_config, options, says):
    with pytest.raises(TaskOptionsError, match=says):
        DeleteProjectMetadata(project_config, TaskConfig({"options": options}),
                              task_fake_org.org_config(project_config))
