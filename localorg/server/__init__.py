"""HTTP APIs of the embedded local org: REST, Tooling, Metadata SOAP and OAuth userinfo.

Why a server of our own: no offline Salesforce exists, and CumulusCI, simple-salesforce and the
project's tasks talk HTTP to an org. This package answers exactly the calls they make, with
Salesforce's status codes, error codes and response shapes, on top of `localorg.backend.Org`.

The handlers parse requests and shape responses only; what they run lives in `localorg.backend`
(Collections and upsert, SOQL runs and query locators, deploys and retrieves).

Modules: `urls` (the route table), `app` (dispatch, auth, errors, access log), `rest` (data API),
`tooling` (Tooling API), `metadata` (Metadata API SOAP), `api_versions`, `httpd` (threaded
loopback server speaking HTTPS and HTTP on one port), `tls` (the self-signed certificate). The
command line that starts it with this project's package is `localorg.cli`.
"""
