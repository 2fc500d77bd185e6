"""Response headers and shapes of the local org that real clients read, over HTTPS."""

import requests
from simple_salesforce import Salesforce

from localorg.backend.api_usage import ApiUsage

V = "63.0"


def test_simple_salesforce_reads_the_api_usage_of_each_rest_call(live):
    """Sforce-Limit-Info: api-usage=N/M on REST answers (recorded: api-usage=75/15000); each
    counted call adds one; the versions list does not count and a 401 carries no usage."""
    sf = Salesforce(instance=f"127.0.0.1:{live.port}", session_id=live.token, version=V)
    sf.query("SELECT Id FROM Contact")
    first = sf.api_usage["api-usage"]
    assert first.total == 15000
    sf.query("SELECT Id FROM Contact")
    assert sf.api_usage["api-usage"].used == first.used + 1
    versions = requests.get(f"{live.url}/services/data")
    assert "Sforce-Limit-Info" not in versions.headers
    denied = requests.get(f"{live.url}/services/data/v{V}/sobjects/User/describe",
                          headers={"Authorization": "Bearer wrong"})
    assert denied.status_code == 401
    assert denied.headers["WWW-Authenticate"] == "Token"
    assert "Sforce-Limit-Info" not in denied.headers
    sf.query("SELECT Id FROM Contact")
    assert sf.api_usage["api-usage"].used == first.used + 2


def test_api_usage_counts_a_rolling_day():
    now = [1000.0]
    usage = ApiUsage(limit=15000, clock=lambda: now[0])
    assert usage.header() == "api-usage=1/15000"
    now[0] += 3600
    assert usage.header() == "api-usage=2/15000"
    now[0] += 24 * 3600 - 1800  # the first call is now more than 24 hours old
    assert usage.header() == "api-usage=2/15000"


def test_an_empty_tooling_result_names_no_entity_type(live):
    """recorded:GET_tooling_query_empty_result.json: entityTypeName null when no row matches;
    the type is named when rows come back."""
    sf = Salesforce(instance=f"127.0.0.1:{live.port}", session_id=live.token, version=V)
    empty = sf.toolingexecute("query/?q=SELECT Id FROM FlowDefinition WHERE "
                              "DeveloperName = 'NoSuchFlow'")
    assert empty == {"size": 0, "totalSize": 0, "done": True, "queryLocator": None,
                     "entityTypeName": None, "records": []}
    found = sf.toolingexecute("query/?q=SELECT Id FROM SubscriberPackage")
    assert found["entityTypeName"] == "SubscriberPackage" and found["size"] == 1


def test_past_the_daily_allocation_rest_calls_are_refused(live):
    """Once the last 24 hours used the whole allocation, a REST call is 403
    REQUEST_LIMIT_EXCEEDED (Status Codes and Error Responses), as Salesforce refuses it."""
    now = [1000.0]
    live.app.usage = ApiUsage(limit=2, clock=lambda: now[0])
    sf = Salesforce(instance=f"127.0.0.1:{live.port}", session_id=live.token, version=V)
    sf.query("SELECT Id FROM Contact")
    sf.query("SELECT Id FROM Contact")
    refused = requests.get(f"{live.url}/services/data/v{V}/query",
                           params={"q": "SELECT Id FROM Contact"},
                           headers={"Authorization": f"Bearer {live.token}"})
    assert refused.status_code == 403
    assert refused.json() == [{"errorCode": "REQUEST_LIMIT_EXCEEDED",
                               "message": "TotalRequests Limit exceeded."}]
    versions = requests.get(f"{live.url}/services/data",
                            headers={"Authorization": f"Bearer {live.token}"})
    assert versions.status_code == 200  # the versions list is not counted
    now[0] += 24 * 3600 + 1  # the window has moved on
    assert sf.query("SELECT Id FROM Contact")["totalSize"] == 0
