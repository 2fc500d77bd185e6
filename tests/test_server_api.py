"""REST and Tooling APIs of the local org, over HTTPS, with simple-salesforce and plain requests."""

import socket

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

V = "63.0"
INVALID_SESSION = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@pytest.fixture
def sf(live):
    return Salesforce(instance=f"127.0.0.1:{live.port}", session_id=live.token, version=V)


def get(live, path, token=None, **kw):
    headers = {"Authorization": f"Bearer {token or live.token}", **kw.pop("headers", {})}
    return requests.get(live.url + path, headers=headers, **kw)


def test_missing_or_wrong_token_is_invalid_session(live):
    no_header = requests.get(f"{live.url}/services/data/v{V}/sobjects/")
    assert (no_header.status_code, no_header.json()) == (401, INVALID_SESSION)
    wrong = get(live, f"/services/data/v{V}/query?q=SELECT Id FROM Contact", token="nope")
    assert (wrong.status_code, wrong.json()) == (401, INVALID_SESSION)
    assert get(live, f"/services/data/v{V}/sobjects/").status_code == 200


def test_versions_and_userinfo_as_cumulusci_reads_them(live):
    versions = get(live, "/services/data").json()
    assert versions[-1] == {"label": "Spring '25", "url": "/services/data/v63.0", "version": "63.0"}
    info = get(live, "/services/oauth2/userinfo").json()
    assert info["organization_id"] == live.org.org_id
    assert info["preferred_username"] == info["email"] == "admin@localorg.test"


def test_crud_with_simple_salesforce(sf):
    created = sf.Contact.create({"LastName": "Lovelace", "Email": "ada@example.test"})
    assert created["success"] and created["id"].startswith("003")
    record = sf.Contact.get(created["id"])
    assert record["Email"] == "ada@example.test"
    assert record["attributes"]["type"] == "Contact"
    assert "Phone" in record  # every field, null included, as Salesforce returns them
    assert sf.Contact.update(created["id"], {"Email": "ada@new.test"}) == 204
    assert sf.Contact.get(created["id"])["Email"] == "ada@new.test"
    assert sf.Contact.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Contact.get(created["id"])
    assert err.value.content[0]["errorCode"] == "NOT_FOUND"


def test_dml_error_body_names_code_and_fields(sf):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"Email": "nolastname@example.test"})
    assert err.value.content == [{"message": "Required fields are missing: [LastName]",
                                  "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["LastName"]}]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Contact.create({"LastName": "X", "Shoe_Size__c": 42})
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_query_errors_are_salesforce_shaped(live):
    bad_field = get(live, f"/services/data/v{V}/query", params={"q": "SELECT Id, Foo FROM Contact"})
    assert bad_field.status_code == 400
    [error] = bad_field.json()
    assert error["errorCode"] == "INVALID_FIELD"
    assert "ERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Contact'." in error["message"]
    bad_type = get(live, f"/services/data/v{V}/query", params={"q": "SELECT Id FROM Foo__c"})
    assert bad_type.json()[0]["errorCode"] == "INVALID_TYPE"
    assert "sObject type 'Foo__c' is not supported." in bad_type.json()[0]["message"]
    syntax = get(live, f"/services/data/v{V}/query", params={"q": "SELECT FROM Contact"})
    assert (syntax.status_code, syntax.json()[0]["errorCode"]) == (400, "MALFORMED_QUERY")


def test_collections_all_or_none_rolls_back_every_record(sf, live):
    before = sf.query("SELECT count() FROM Lead")["totalSize"]
    body = {"allOrNone": True, "records": [
        {"attributes": {"type": "Lead"}, "LastName": "Ok", "Company": "Acme"},
        {"attributes": {"type": "Lead"}, "LastName": "Missing company"},
    ]}
    response = requests.post(f"{live.url}/services/data/v{V}/composite/sobjects", json=body,
                             headers={"Authorization": f"Bearer {live.token}"})
    assert response.status_code == 200
    first, second = response.json()
    assert first["success"] is False
    assert first["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert second["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT count() FROM Lead")["totalSize"] == before


def test_collections_partial_success_keeps_valid_records(sf, live):
    body = {"allOrNone": False, "records": [
        {"attributes": {"type": "Lead"}, "LastName": "Kept", "Company": "Acme"},
        {"attributes": {"type": "Lead"}, "LastName": "Dropped"},
    ]}
    kept, dropped = requests.post(f"{live.url}/services/data/v{V}/composite/sobjects", json=body,
                                  headers={"Authorization": f"Bearer {live.token}"}).json()
    assert kept["success"] and kept["id"].startswith("00Q")
    assert dropped == {"id": None, "success": False, "errors": [
        {"statusCode": "REQUIRED_FIELD_MISSING",
         "message": "Required fields are missing: [Company]", "fields": ["Company"]}]}
    assert sf.query(f"SELECT Id FROM Lead WHERE Id = '{kept['id']}'")["totalSize"] == 1


def test_collections_refuse_more_than_200_records(live):
    body = {"allOrNone": False,
            "records": [{"attributes": {"type": "Lead"}, "LastName": "L", "Company": "C"}] * 201}
    response = requests.post(f"{live.url}/services/data/v{V}/composite/sobjects", json=body,
                             headers={"Authorization": f"Bearer {live.token}"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_query_pages_with_next_records_url(sf, live):
    for start in range(0, 450, 150):
        result = sf.restful("composite/sobjects", method="POST", json={
            "allOrNone": True,
            "records": [{"attributes": {"type": "Contact"}, "LastName": f"Page{start + i:03d}",
                         "Title": "paging"} for i in range(150)]})
        assert all(r["success"] for r in result)
    soql = "SELECT LastName FROM Contact WHERE Title = 'paging' ORDER BY LastName"
    first = get(live, f"/services/data/v{V}/query", params={"q": soql},
                headers={"Sforce-Query-Options": "batchSize=200"}).json()
    assert (first["totalSize"], first["done"], len(first["records"])) == (450, False, 200)
    assert first["nextRecordsUrl"].startswith(f"/services/data/v{V}/query/01g")
    assert first["nextRecordsUrl"].endswith("-200")
    everything = sf.query_all("SELECT LastName FROM Contact WHERE Title = 'paging' "
                              "ORDER BY LastName DESC")
    names = [r["LastName"] for r in everything["records"]]
    assert len(names) == 450 and names[0] == "Page449" and names[-1] == "Page000"
    bad = get(live, f"/services/data/v{V}/query/01gNOPE-200")
    assert (bad.status_code, bad.json()[0]["errorCode"]) == (400, "INVALID_QUERY_LOCATOR")


def test_tooling_installed_packages_as_cumulusci_queries_them(sf, live):
    tooling = f"/services/data/v{V}/tooling/query/"
    isp = get(live, tooling, params={"q": "SELECT SubscriberPackage.Id, "
              "SubscriberPackage.NamespacePrefix, SubscriberPackageVersionId "
              "FROM InstalledSubscriberPackage"}).json()
    [package] = isp["records"]
    assert package["SubscriberPackage"]["NamespacePrefix"] == "Calendly"
    spv = get(live, tooling, params={"q": "SELECT Id, MajorVersion, MinorVersion, PatchVersion, "
              "BuildNumber, IsBeta FROM SubscriberPackageVersion "
              f"WHERE Id='{package['SubscriberPackageVersionId']}'"}).json()
    [version] = spv["records"]
    assert (version["MajorVersion"], version["MinorVersion"], version["IsBeta"]) == (2, 5, False)


FLOW = b"""<?xml version="1.0" encoding="UTF-8"?>
<Flow xmlns="http://soap.sforce.com/2006/04/metadata">
    <apiVersion>63.0</apiVersion>
    <label>Noop</label>
    <processType>AutoLaunchedFlow</processType>
    <start><locationX>0</locationX><locationY>0</locationY></start>
    <status>Draft</status>
</Flow>
"""


def test_flow_definition_activation_through_tooling_patch(live):
    live.org.deploy_flow("Noop_Flow", FLOW)
    live.org.deploy_flow("Noop_Flow", FLOW.replace(b"<label>Noop", b"<label>Noop 2"))
    query = ("SELECT Id, DeveloperName, NamespacePrefix, ActiveVersionId, LatestVersionId, "
             "ActiveVersion.VersionNumber, LatestVersion.VersionNumber FROM FlowDefinition "
             "WHERE DeveloperName = 'Noop_Flow' AND NamespacePrefix = null")
    tooling = f"/services/data/v{V}/tooling"
    [definition] = get(live, f"{tooling}/query", params={"q": query}).json()["records"]
    assert definition["ActiveVersion"] is None
    assert definition["LatestVersion"]["VersionNumber"] == 2
    headers = {"Authorization": f"Bearer {live.token}"}
    url = f"{live.url}{tooling}/sobjects/FlowDefinition/{definition['Id']}"
    patched = requests.patch(url, json={"Metadata": {"activeVersionNumber": 1}}, headers=headers)
    assert patched.status_code == 204
    [definition] = get(live, f"{tooling}/query", params={"q": query}).json()["records"]
    assert definition["ActiveVersion"]["VersionNumber"] == 1
    missing = requests.patch(url, json={"Metadata": {"activeVersionNumber": 7}}, headers=headers)
    assert missing.status_code == 400
    assert "no version 7" in missing.json()[0]["message"]
    off = requests.patch(url, json={"Metadata": {"activeVersionNumber": 0}}, headers=headers)
    assert off.status_code == 204
    [definition] = get(live, f"{tooling}/query", params={"q": query}).json()["records"]
    assert definition["ActiveVersion"] is None


def test_unimplemented_apis_say_so(live):
    headers = {"Authorization": f"Bearer {live.token}"}
    apex = get(live, f"/services/data/v{V}/tooling/executeAnonymous/",
               params={"anonymousBody": "System.debug(1);"})
    assert apex.status_code == 501
    assert apex.json() == [{"message": f"GET /services/data/v{V}/tooling/executeAnonymous/ is not "
                            "implemented by localorg", "errorCode": "NOT_IMPLEMENTED"}]
    bulk = requests.post(f"{live.url}/services/data/v{V}/jobs/ingest", json={}, headers=headers)
    assert bulk.status_code == 501
    anonymous = requests.post(f"{live.url}/services/data/v{V}/jobs/ingest", json={})
    assert (anonymous.status_code, anonymous.json()) == (401, INVALID_SESSION)
    apex_class = requests.post(f"{live.url}/services/data/v{V}/tooling/sobjects/ApexClass",
                               json={"Name": "X", "Body": "public class X {}"}, headers=headers)
    assert (apex_class.status_code, apex_class.json()[0]["errorCode"]) == (501, "NOT_IMPLEMENTED")
    for_update = get(live, f"/services/data/v{V}/query",
                     params={"q": "SELECT Id FROM Contact LIMIT 1 FOR UPDATE"})
    assert (for_update.status_code, for_update.json()[0]["errorCode"]) == (501, "NOT_IMPLEMENTED")
    assert "FOR UPDATE" in for_update.json()[0]["message"]
    query_all = get(live, f"/services/data/v{V}/queryAll", params={"q": "SELECT Id FROM Contact"})
    assert (query_all.status_code, query_all.json()[0]["errorCode"]) == (501, "NOT_IMPLEMENTED")
    assert "queryAll" in query_all.json()[0]["message"]


def test_for_view_and_for_reference_return_the_rows_and_stamp_them(live, sf):
    """SOQL and SOSL Reference, "FOR VIEW and FOR REFERENCE": the rows come back and their
    LastViewedDate / LastReferencedDate are set; the record itself is not modified."""
    seen = sf.Lead.create({"LastName": "Viewed", "Company": "Acme"})["id"]
    other = sf.Lead.create({"LastName": "Unseen", "Company": "Acme"})["id"]
    before = sf.Lead.get(seen)
    assert before["LastViewedDate"] is None and before["LastReferencedDate"] is None
    assert seen not in [r["Id"] for r in get(live, f"/services/data/v{V}/sobjects/Lead")
                        .json()["recentItems"]]
    viewed = sf.query(f"SELECT Id, LastName FROM Lead WHERE Id = '{seen}' FOR VIEW")
    assert [r["LastName"] for r in viewed["records"]] == ["Viewed"]
    after = sf.Lead.get(seen)
    assert after["LastViewedDate"] is not None and after["LastReferencedDate"] is None
    assert after["LastModifiedDate"] == before["LastModifiedDate"]
    assert sf.Lead.get(other)["LastViewedDate"] is None
    recent = get(live, f"/services/data/v{V}/sobjects/Lead").json()["recentItems"]
    assert recent[0]["Id"] == seen and other not in [r["Id"] for r in recent]
    sf.query(f"SELECT Id FROM Lead WHERE Id = '{other}' FOR REFERENCE")
    assert sf.Lead.get(other)["LastReferencedDate"] is not None
    assert sf.Lead.get(other)["LastViewedDate"] is None
    with pytest.raises(SalesforceMalformedRequest):
        sf.Lead.update(seen, {"LastViewedDate": "2026-01-01T00:00:00.000+0000"})


def test_for_view_only_on_objects_salesforce_tracks_in_recently_viewed(live, sf):
    assert sf.Lead.describe()["mruEnabled"] is True
    assert sf.Event.describe()["mruEnabled"] is True  # recorded, yet no LastViewedDate field
    assert "LastViewedDate" not in {f["name"] for f in sf.Event.describe()["fields"]}
    event = get(live, f"/services/data/v{V}/query", params={"q": "SELECT Id FROM Event FOR VIEW"})
    assert (event.status_code, event.json()[0]["errorCode"]) == (501, "NOT_IMPLEMENTED")
    assert "FOR VIEW on Event" in event.json()[0]["message"]
    tooling = get(live, f"/services/data/v{V}/tooling/query",
                  params={"q": "SELECT Id FROM FlowDefinition FOR VIEW"})
    assert (tooling.status_code, tooling.json()[0]["errorCode"]) == (501, "NOT_IMPLEMENTED")


def test_calls_are_counted_by_route(live):
    before = live.app.calls["GET /services/data/v<version>/sobjects/<sobject>/describe"]
    assert get(live, f"/services/data/v{V}/sobjects/Event/describe").status_code == 200
    after = live.app.calls["GET /services/data/v<version>/sobjects/<sobject>/describe"]
    assert after == before + 1


def test_tooling_flow_metadata_json_round_trips_and_posts_new_versions(live):
    tooling = f"/services/data/v{V}/tooling"
    headers = {"Authorization": f"Bearer {live.token}"}
    live.org.deploy_flow("Json_Flow", FLOW)
    one = ("SELECT Id, FullName, VersionNumber, Metadata FROM Flow "
           "WHERE Definition.DeveloperName = 'Json_Flow'")
    [flow] = get(live, f"{tooling}/query", params={"q": one}).json()["records"]
    assert flow["FullName"] == "Json_Flow-1"
    meta = flow["Metadata"]
    assert meta["apiVersion"] == 63.0 and meta["label"] == "Noop" and meta["decisions"] == []
    assert meta["start"]["locationX"] == 0
    live.org.deploy_flow("Json_Flow_Other", FLOW)  # a second row, whatever ran before
    several = get(live, f"{tooling}/query", params={"q": "SELECT Id, Metadata FROM Flow"})
    assert several.status_code == 400
    assert several.json()[0]["errorCode"] == "MALFORMED_QUERY"
    assert "no more than one row" in several.json()[0]["message"]

    meta["label"] = "Noop via Tooling"
    created = requests.post(f"{live.url}{tooling}/sobjects/Flow", headers=headers,
                            json={"FullName": "Json_Flow", "Metadata": meta})
    assert created.status_code == 201 and created.json()["success"]
    assert b"<label>Noop via Tooling</label>" in live.org.flow_xml("Json_Flow", 2)
    bad = requests.post(f"{live.url}{tooling}/sobjects/Flow", headers=headers,
                        json={"FullName": "Json_Flow", "Metadata": {**meta, "status": "Actve"}})
    assert (bad.status_code, bad.json()[0]["errorCode"]) == (400, "FIELD_INTEGRITY_EXCEPTION")
    formula = {"name": "F", "dataType": "Number", "expression": "LEN()", "scale": 0}
    wrong = requests.post(f"{live.url}{tooling}/sobjects/Flow", headers=headers, json={
        "FullName": "Json_Flow", "Metadata": {**meta, "formulas": [formula]}})
    assert (wrong.status_code, wrong.json()[0]["errorCode"]) == (400, "FIELD_INTEGRITY_EXCEPTION")
    assert wrong.json()[0]["message"] == (
        "field integrity exception: unknown (The formula expression is invalid: Incorrect number "
        "of parameters for function 'LEN()'. Expected 1, received 0)")
    for expression, status, code in (("LENN(1)", 400, "FIELD_INTEGRITY_EXCEPTION"),
                                     ("HYPERLINK(1, 2)", 501, "NOT_IMPLEMENTED")):
        refused = requests.post(f"{live.url}{tooling}/sobjects/Flow", headers=headers, json={
            "FullName": "Json_Flow",
            "Metadata": {**meta, "formulas": [{**formula, "expression": expression}]}})
        assert (refused.status_code, refused.json()[0]["errorCode"]) == (status, code)
        assert expression.split("(")[0] in refused.json()[0]["message"]
    both = requests.post(f"{live.url}{tooling}/sobjects/Flow", headers=headers, json={
        "FullName": "Json_Flow", "Metadata": {**meta, "formulas": [
            {**formula, "expression": "HYPERLINK(LENN(1), 2)"}]}})  # the flow's fault first
    assert (both.status_code, both.json()[0]["errorCode"]) == (400, "FIELD_INTEGRITY_EXCEPTION")
    assert "Unknown function LENN" in both.json()[0]["message"]
    unknown = requests.post(f"{live.url}{tooling}/sobjects/Flow", headers=headers,
                            json={"FullName": "Json_Flow", "Metadata": {"labl": "x"}})
    assert unknown.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert "labl" in unknown.json()[0]["message"]
    assert [v["version"] for v in next(f for f in live.org.flows()
                                       if f["name"] == "Json_Flow")["versions"]] == [1, 2]


def test_loopback_only(live):
    # Bound to 127.0.0.1 itself: another address, even of the loopback range, is refused.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", live.port), timeout=2)
    other_host = get(live, "/services/data", headers={"Host": "attacker.example"})
    assert other_host.status_code == 421
    assert other_host.json()[0]["errorCode"] == "INVALID_HOST"
    assert get(live, "/services/data", headers={"Host": f"localhost:{live.port}"}).ok


def test_an_idle_connection_does_not_hold_up_other_clients(live):
    """A client that connects and sends nothing (a browser's spare pre-connection) waits in its
    own thread; before, the accept loop waited on it for its 30 s socket timeout."""
    with socket.create_connection(("127.0.0.1", live.port)):
        assert get(live, "/services/data", timeout=10).status_code == 200


def test_frontdoor_sets_an_httponly_cookie_and_the_event_page_needs_it(live, sf):
    contact = sf.Contact.create({"LastName": "Page"})["id"]
    event = sf.Event.create({"Subject": "Page check", "WhoId": contact,
                             "StartDateTime": "2026-12-01T10:00:00.000+0000",
                             "EndDateTime": "2026-12-01T10:30:00.000+0000"})["id"]
    page = f"/lightning/r/Event/{event}/view"
    bad = requests.get(f"{live.url}/secur/frontdoor.jsp", params={"sid": "nope", "retURL": page},
                       allow_redirects=False)
    assert bad.status_code == 401 and "nope" not in bad.text
    assert requests.get(live.url + page).status_code == 401
    good = requests.get(f"{live.url}/secur/frontdoor.jsp",
                        params={"sid": live.token, "retURL": page}, allow_redirects=False)
    assert good.status_code == 302 and good.headers["Location"].endswith(page)
    cookie = good.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    offsite = requests.get(f"{live.url}/secur/frontdoor.jsp", allow_redirects=False,
                           params={"sid": live.token, "retURL": "https://evil.example/"})
    assert offsite.headers["Location"].endswith("/") and "evil" not in offsite.headers["Location"]
    shown = requests.get(live.url + page, cookies={"sid": live.token})
    assert shown.status_code == 200 and "Page check" in shown.text


def test_count_query_honours_limit(sf):
    sf.Lead.create({"LastName": "Count1", "Company": "CountCo"})
    sf.Lead.create({"LastName": "Count2", "Company": "CountCo"})
    assert sf.query("SELECT count() FROM Lead WHERE Company = 'CountCo'")["totalSize"] == 2
    assert sf.query("SELECT count() FROM Lead WHERE Company = 'CountCo' LIMIT 1")["totalSize"] == 1


def test_unknown_object_in_the_url_is_not_found(live):
    for path in ("sobjects/Foo__c/describe", "sobjects/Foo__c", "sobjects/Foo__c/001000000000001"):
        response = get(live, f"/services/data/v{V}/{path}")
        assert response.status_code == 404, path
        assert response.json() == [{"message": "The requested resource does not exist",
                                     "errorCode": "NOT_FOUND"}]


def test_a_record_url_with_no_id_or_an_unknown_id_is_not_found(live, sf):
    headers = {"Authorization": f"Bearer {live.token}"}
    url = f"{live.url}/services/data/v{V}/sobjects/Contact"
    lead = sf.Lead.create({"LastName": "L", "Company": "C"})["id"]
    for method in ("GET", "PATCH", "DELETE"):
        kw = {"json": {"LastName": "X"}} if method == "PATCH" else {}
        bad = requests.request(method, f"{url}/-1", headers=headers, **kw)
        assert (bad.status_code, bad.json()) == (404, [{
            "message": "Provided external ID field does not exist or is not accessible: -1",
            "errorCode": "NOT_FOUND"}]), method
        other = requests.request(method, f"{url}/{lead}", headers=headers, **kw)
        assert (other.status_code, other.json()) == (404, [{
            "message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}])
    assert sf.Lead.get(lead)["LastName"] == "L"


def test_dml_the_describe_refuses_is_refused_on_every_route(live, sf):
    """Organization is read-only and Users cannot be deleted (describe: createable, updateable,
    deletable false): single-record routes and Collections alike say INVALID_TYPE_FOR_OPERATION
    and change nothing."""
    headers = {"Authorization": f"Bearer {live.token}"}
    base = f"{live.url}/services/data/v{V}"
    org_id, user_id = live.org.org_id, live.org.default_user_id
    org = sf.Organization.describe()
    assert not (org["createable"] or org["deletable"])  # updateable: true as recorded, but no
    assert not any(f["updateable"] for f in org["fields"])  # field is: update is refused
    assert sf.User.describe()["deletable"] is False and sf.User.describe()["updateable"]
    calls = [("POST", f"{base}/sobjects/Organization", {"Name": "X"}),
             ("PATCH", f"{base}/sobjects/Organization/{org_id}", {"Name": "X"}),
             ("DELETE", f"{base}/sobjects/Organization/{org_id}", None),
             ("DELETE", f"{base}/sobjects/User/{user_id}", None),
             ("PATCH", f"{base}/composite/sobjects/Organization/Id",
              {"allOrNone": False, "records": [{"attributes": {"type": "Organization"},
                                                "Name": "X"}]})]
    for method, url, body in calls:
        response = requests.request(method, url, json=body, headers=headers)
        assert response.status_code == 400, (method, url)
        assert response.json()[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION", (method, url)
    [result] = requests.delete(f"{base}/composite/sobjects", headers=headers,
                               params={"ids": org_id, "allOrNone": "false"}).json()
    assert result["errors"][0]["statusCode"] == "INVALID_TYPE_FOR_OPERATION"
    [result] = requests.delete(f"{base}/composite/sobjects", headers=headers,
                               params={"ids": user_id, "allOrNone": "false"}).json()
    assert result["errors"][0]["statusCode"] == "INVALID_TYPE_FOR_OPERATION"
    assert sf.Organization.get(org_id)["Name"] == "Local Org"
    assert sf.User.get(user_id)["IsActive"] is True


def test_composite_runs_get_subrequests_and_refuses_what_it_cannot(live):
    url = f"{live.url}/services/data/v{V}/composite"
    headers = {"Authorization": f"Bearer {live.token}"}
    body = {"compositeRequest": [
        {"method": "GET", "url": f"/services/data/v{V}/sobjects/Lead/describe",
         "referenceId": "lead"},
        {"method": "GET", "url": f"/services/data/v{V}/sobjects/Nope__c/describe",
         "referenceId": "nope"}]}
    lead, nope = requests.post(url, json=body, headers=headers).json()["compositeResponse"]
    assert (lead["referenceId"], lead["httpStatusCode"]) == ("lead", 200)
    assert lead["body"]["name"] == "Lead"
    assert (nope["httpStatusCode"], nope["body"][0]["errorCode"]) == (404, "NOT_FOUND")
    post = {"compositeRequest": [{"method": "POST", "url": f"/services/data/v{V}/sobjects/Lead",
                                  "referenceId": "x", "body": {"LastName": "L"}}]}
    refused = requests.post(url, json=post, headers=headers)
    assert (refused.status_code, refused.json()[0]["errorCode"]) == (501, "NOT_IMPLEMENTED")
    for bad in ({"compositeRequest": []}, {"compositeRequest": [{"method": "GET"}]},
                {"compositeRequest": ["GET /x"]}):
        response = requests.post(url, json=bad, headers=headers)
        assert response.status_code == 400, bad
        assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_collections_upsert_on_an_id_lookup_field(sf, live):
    fields = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    assert fields["Email"]["idLookup"] and not fields["Title"]["idLookup"]
    url = f"{live.url}/services/data/v{V}/composite/sobjects/Contact/Email"
    headers = {"Authorization": f"Bearer {live.token}"}
    existing = sf.Contact.create({"LastName": "Old", "Email": "up@sert.test"})["id"]

    def upsert(records, all_or_none=False):
        body = {"allOrNone": all_or_none,
                "records": [{"attributes": {"type": "Contact"}, **r} for r in records]}
        return requests.patch(url, json=body, headers=headers)

    first = upsert([{"LastName": "New", "Email": "UP@sert.test"},
                    {"LastName": "Fresh", "Email": "fresh@sert.test"},
                    {"LastName": "Twice", "Email": "twice@sert.test"},
                    {"LastName": "Twice", "Email": "twice@sert.test"}]).json()
    assert (first[0]["id"], first[0]["created"]) == (existing, False)
    assert first[1]["success"] and first[1]["created"]
    assert [r["errors"][0]["statusCode"] for r in first[2:]] == ["DUPLICATE_EXTERNAL_ID"] * 2
    assert sf.Contact.get(existing)["LastName"] == "New"
    again = upsert([{"LastName": "Fresher", "Email": "fresh@sert.test"}]).json()
    assert (again[0]["id"], again[0]["created"]) == (first[1]["id"], False)
    rolled = upsert([{"LastName": "Ok", "Email": "ok@sert.test"}, {"Email": "nolast@sert.test"}],
                    all_or_none=True).json()
    assert rolled[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert sf.query("SELECT count() FROM Contact WHERE Email = 'ok@sert.test'")["totalSize"] == 0
    not_lookup = requests.patch(f"{live.url}/services/data/v{V}/composite/sobjects/Contact/Title",
                                json={"allOrNone": False, "records": []}, headers=headers)
    assert (not_lookup.status_code, not_lookup.json()[0]["errorCode"]) == (404, "NOT_FOUND")


def test_parent_records_carry_their_url_like_salesforce(sf, live):
    sf.Contact.create({"LastName": "Url", "Title": "url-check"})
    [row] = sf.query("SELECT LastName, Owner.Email FROM Contact WHERE Title = 'url-check'")[
        "records"]
    assert list(row) == ["attributes", "LastName", "Owner"]  # helper Ids are not returned
    assert row["attributes"]["url"].startswith(f"/services/data/v{V}/sobjects/Contact/003")
    assert row["Owner"]["attributes"]["url"] == (
        f"/services/data/v{V}/sobjects/User/{live.org.default_user_id}")
    assert list(row["Owner"]) == ["attributes", "Email"]
    [lower] = sf.query("SELECT lastname, owner.email FROM contact WHERE title = 'url-check'")[
        "records"]
    assert lower == row  # field names as the describe spells them, and no helper Id either
