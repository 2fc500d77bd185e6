"""HTTP APIs of the embedded local org: REST, Tooling, Metadata SOAP and OAuth userinfo.

Why a server of our own: no offline Salesforce exists, and CumulusCI, simple-salesforce and the
project's tasks talk HTTP to an org. This package answers exactly the calls they make, with
Salesforce's status codes, error codes and response shapes, on top of `localorg.store.Org`.

Modules: `app` (routing, auth, errors, access log), `rest` (data API), `tooling` (Tooling API),
`metadata` (Metadata API SOAP), `httpd` (threaded loopback server speaking HTTPS and HTTP on one
port), `tls` (the self-signed certificate), `cli` (start/stop/status/register).
"""
