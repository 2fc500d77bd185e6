"""Asynchronous paths of record-triggered flows: after commit, own transaction and limits,
batches of 200, failures roll back only the asynchronous transaction (docs/fidelity.md)."""

import pytest
from test_runtime import assign, create, decision, filt, go, lookup, ref, s, var

from localorg import scenario
from localorg.calendly import local_org
from localorg.conditions import Cmp
from localorg.errors import NotImplementedInLocalOrg


def rt_flow(body, async_first=None, immediate=None, obj="Lead", name="AsyncFlow", paths=""):
    """A record-triggered flow on insert of `obj`: an immediate path and/or an async path."""
    start = go(immediate) + f"<object>{obj}</object><recordTriggerType>Create</recordTriggerType>"
    if async_first:
        start += (f"<scheduledPaths>{go(async_first)}<pathType>AsyncAfterCommit</pathType>"
                  "</scheduledPaths>")
    start += paths + "<triggerType>RecordAfterSave</triggerType>"
    return (f'<?xml version="1.0" encoding="UTF-8"?><Flow '
            f'xmlns="http://soap.sforce.com/2006/04/metadata"><apiVersion>63.0</apiVersion>'
            f"<label>{name}</label><processType>AutoLaunchedFlow</processType>"
            f"<start>{start}</start><status>Active</status>{body}</Flow>").encode()


MAKE_CONTACT = create("Make", obj="Contact", fields=[("LastName", ref("$Record.LastName")),
                                                      ("Email", ref("$Record.Email"))])


@pytest.fixture
def org():
    return local_org()


def insert_leads(org, count, **extra):
    with org.transaction() as txn:
        txn.insert("Lead", [{"LastName": f"L{i}", "Company": "Acme", "Email": f"l{i}@x.test",
                             **extra} for i in range(count)])
        inside = txn.count("Contact")  # the async path has not run yet
        return txn.usage.as_dict(), inside


def contacts(org):
    with org.transaction() as txn:
        return txn.count("Contact")


def runs(org):
    return org.flow_trigger.async_paths.runs


def test_async_path_runs_after_commit_in_its_own_transaction(org):
    org.deploy_flow("AsyncFlow", rt_flow(MAKE_CONTACT, async_first="Make"))
    usage, inside = insert_leads(org, 3)
    assert inside == 0 and usage["dml"] == 1  # only the Lead insert in the trigger transaction
    assert contacts(org) == 3
    [run] = runs(org)
    assert run["error"] is None and len(run["records"]) == 3
    assert run["usage"] == {"soql": 0, "query_rows": 0, "dml": 1, "dml_rows": 3}


def test_rolled_back_transaction_runs_no_async_path(org):
    org.deploy_flow("AsyncFlow", rt_flow(MAKE_CONTACT, async_first="Make"))
    with pytest.raises(RuntimeError), org.transaction() as txn:
        txn.insert("Lead", [{"LastName": "L", "Company": "Acme"}])
        raise RuntimeError("caller gives up")
    assert runs(org) == [] and contacts(org) == 0


def test_failure_rolls_back_only_the_async_transaction(org):
    """The path creates a Contact, then fails: the Contact is rolled back, the Leads stay."""
    body = (create("Make", obj="Contact", fields=[("LastName", s("First"))], nxt="Fail")
            + create("Fail", obj="Contact", fields=[("FirstName", s("no last name"))]))
    org.deploy_flow("AsyncFlow", rt_flow(body, async_first="Make"))
    insert_leads(org, 2)
    with org.transaction() as txn:
        assert txn.count("Lead") == 2
    assert contacts(org) == 0
    [run] = runs(org)
    assert run["error"]["code"] == "FLOW_FAULT" and run["error"]["record"] in run["records"]
    assert "REQUIRED_FIELD_MISSING" in run["error"]["message"]


def soql_loop(count):
    """An async path that runs Get Records `count` times in a loop."""
    return (var("i", "Number", value="<numberValue>0</numberValue>")
            + var("c", "SObject", obj="Contact")
            + lookup("Get", "Contact", [filt("Email", "EqualTo", s("none@x.test"))], out="c",
                     nxt="Count")
            + assign("Count", [("i", "Add", "<numberValue>1</numberValue>")], "More")
            + decision("More", [("Again", "and", [("i", "LessThan",
                                                   f"<numberValue>{count}</numberValue>")],
                                 "Get")]))


@pytest.mark.parametrize("queries,error", [(150, None), (200, None),
                                           (201, "Too many SOQL queries: 201")])
def test_async_transaction_has_the_asynchronous_soql_limit(org, queries, error):
    org.deploy_flow("AsyncFlow", rt_flow(soql_loop(queries), async_first="Get"))
    insert_leads(org, 1)
    [run] = runs(org)
    assert (run["error"] or {}).get("message") == error
    if error is None:
        assert run["usage"]["soql"] == queries


def test_async_path_runs_in_batches_of_200(org):
    org.deploy_flow("AsyncFlow", rt_flow(MAKE_CONTACT, async_first="Make"))
    insert_leads(org, 450)
    assert [len(r["records"]) for r in runs(org)] == [200, 200, 50]
    assert [r["usage"]["dml"] for r in runs(org)] == [1, 1, 1]
    assert contacts(org) == 450


def test_immediate_and_async_paths_of_one_flow(org):
    """The immediate path runs in the trigger transaction; the async path reads the record as
    committed, including what the immediate path wrote to it."""
    body = ("<recordUpdates><name>Now</name><label>Now</label><inputAssignments><field>Title"
            "</field><value><stringValue>seen</stringValue></value></inputAssignments>"
            "<inputReference>$Record</inputReference></recordUpdates>"
            + create("Later", obj="Contact", fields=[("LastName", ref("$Record.Title"))]))
    org.deploy_flow("AsyncFlow", rt_flow(body, async_first="Later", immediate="Now"))
    usage, inside = insert_leads(org, 2)
    assert usage["dml"] == 2 and inside == 0
    with org.transaction() as txn:
        assert txn.count("Contact", Cmp("LastName", "=", "seen")) == 2


def test_partial_success_schedules_only_saved_records(org):
    body = (decision("Check", [("Bad", "and", [("$Record.Company", "EqualTo", s("Bad"))],
                                "Stop")])
            + "<customErrors><name>Stop</name><label>Stop</label><customErrorMessages>"
              "<errorMessage>no</errorMessage><isFieldError>false</isFieldError>"
              "</customErrorMessages></customErrors>" + MAKE_CONTACT)
    org.deploy_flow("AsyncFlow", rt_flow(body, async_first="Make", immediate="Check"))
    with org.transaction() as txn:
        results = txn.insert("Lead", [{"LastName": "A", "Company": "Acme"},
                                      {"LastName": "B", "Company": "Bad"},
                                      {"LastName": "C", "Company": "Acme"}], all_or_none=False)
    assert [r["success"] for r in results] == [True, False, True]
    [run] = runs(org)
    assert sorted(run["records"]) == sorted(r["id"] for r in results if r["success"])
    assert contacts(org) == 2


def test_time_based_scheduled_path_is_not_implemented(org):
    timed = ("<scheduledPaths><name>Later</name>" + go("Make") + "<offsetNumber>1</offsetNumber>"
             "<offsetUnit>Days</offsetUnit><timeSource>RecordTriggerEvent</timeSource>"
             "</scheduledPaths>")
    org.deploy_flow("AsyncFlow", rt_flow(MAKE_CONTACT, paths=timed))
    with pytest.raises(NotImplementedInLocalOrg) as exc, org.transaction() as txn:
        txn.insert("Lead", [{"LastName": "L", "Company": "Acme"}])
    assert "time-based scheduled paths of flow AsyncFlow (Later)" in exc.value.message


def test_scenario_runner_reports_async_transactions(tmp_path):
    """A CreateEventTemplate whose async path fails: the booking commits, the failure and the
    async governor usage are reported, and only an async_errors expectation accepts it."""
    body = create("Fail", obj="Contact", fields=[("FirstName", s("x"))])
    (tmp_path / "CreateEventTemplate.flow-meta.xml").write_bytes(
        rt_flow(body, async_first="Fail", obj="Calendly__CalendlyAction__c",
                name="CreateEventTemplate"))
    booking = {"Name": "b1", "Calendly__InviteeUuid__c": "inv-1"}
    data = {"transactions": [[booking]], "expect": {"errors": [None]}}
    result = scenario.run(data, flows_dir=tmp_path)
    [txn] = result["transactions"]
    assert txn["error"] is None and txn["dml"] == 1
    [run] = txn["async"]
    assert run["flow"] == "CreateEventTemplate" and run["dml"] == 1 and run["records"] == 1
    assert run["error"]["code"] == "FLOW_FAULT"
    assert any("asynchronous path of CreateEventTemplate failed" in f for f in result["failures"])
    data["expect"]["async_errors"] = [{"code": "FLOW_FAULT",
                                       "message_contains": "REQUIRED_FIELD_MISSING"}]
    assert scenario.run(data, flows_dir=tmp_path)["ok"]
    data["expect"]["governor"] = {"dml": {"max": 0}}
    failures = scenario.run(data, flows_dir=tmp_path)["failures"]
    assert "transaction 0 async 0 (CreateEventTemplate): dml 1 exceeds max 0" in failures


def test_rest_insert_succeeds_and_the_async_path_runs_after_it(org, serve_org):
    """Through the REST API: the Lead insert answers 201 even when the async path fails; a
    path that works has written its Contact by the time the client queries."""
    from simple_salesforce import Salesforce

    org.deploy_flow("AsyncFlow", rt_flow(
        decision("Check", [("Bad", "and", [("$Record.Company", "EqualTo", s("Bad"))], "Fail")],
                 default="Make")
        + MAKE_CONTACT + create("Fail", obj="Contact", fields=[("FirstName", s("x"))]),
        async_first="Check"))
    live = serve_org(org)
    sf = Salesforce(instance=f"127.0.0.1:{live.port}", session_id=live.token, version="63.0")
    ok = sf.Lead.create({"LastName": "Good", "Company": "Acme", "Email": "good@x.test"})
    bad = sf.Lead.create({"LastName": "Bad", "Company": "Bad"})
    assert ok["success"] and bad["success"]
    assert sf.query("SELECT Id FROM Lead")["totalSize"] == 2
    rows = sf.query("SELECT LastName FROM Contact")["records"]
    assert [r["LastName"] for r in rows] == ["Good"]
    assert [r["error"] and r["error"]["code"] for r in runs(org)] == [None, "FLOW_FAULT"]


def test_failed_async_interview_is_a_flow_interview_in_error(org, serve_org):
    """What the API sees of a failure: a FlowInterview row with InterviewStatus Error, as in
    Setup's Paused and Failed Flow Interviews; nothing for a path that succeeds."""
    from simple_salesforce import Salesforce

    body = create("Fail", obj="Contact", fields=[("FirstName", s("x"))])
    org.deploy_flow("AsyncFlow", rt_flow(body, async_first="Fail"))
    live = serve_org(org)
    sf = Salesforce(instance=f"127.0.0.1:{live.port}", session_id=live.token, version="63.0")
    assert sf.query("SELECT Id FROM FlowInterview")["totalSize"] == 0
    sf.Lead.create({"LastName": "L", "Company": "Acme"})
    rows = sf.query("SELECT InterviewStatus, CurrentElement, Error, InterviewLabel "
                    "FROM FlowInterview WHERE InterviewStatus = 'Error'")["records"]
    assert len(rows) == 1
    assert rows[0]["CurrentElement"] == "Fail" and rows[0]["InterviewLabel"].startswith("AsyncFlow")
    assert rows[0]["Error"].startswith("FLOW_FAULT: This error occurred when the flow tried to "
                                       "create records: REQUIRED_FIELD_MISSING")
