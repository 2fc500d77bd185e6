"""The record store of the embedded local org (the backend behind the HTTP APIs and the flows).

Public API (the HTTP server, the flow runtime and the scenario runner use only this):

    org = Org(":memory:")                 # or Org("path/org.sqlite3"); reopening keeps data/schema
    org = Org(path, packages=[Package("Acme", "1.2", source=folder)])  # on a NEW org: install
                                          # the folder's objects/, report Acme 1.2 installed
    org = Org(path, run_flows=False)      # active record-triggered flows do not run on insert
    org = Org(path, shared_activities=False)  # a new org without Shared Activities (settings.py)
    org.shared_activities                 # the org's setting, kept when the org is reopened
    org.org_id, org.default_user_id       # Organization id; the active System Administrator
                                          # (Email admin@localorg.test) present in every fresh org
    org.installed_packages()              # [{"namespace": "Acme", "name", "version": "1.2"}]
    org.install_package(Package("Acme", "1.3"))  # upgrade (source None: the one installed)

    with org.transaction(user_id=None) as txn:   # all-or-none: any exception rolls back every
        ids = txn.insert("Contact", [{...}, ...])  # write, flows triggered inside included
        txn.update("Contact", [{"Id": ..., "Email": ...}])
        txn.delete("Contact", [id1, id2])
        rows = txn.query("Contact", ["Id", "Email", "Owner.Email"],
                         where=And(Cmp("Email", "IN", [...]), Cmp("IsDeleted", "=", False)),
                         order_by=[("LastModifiedDate", True, True)],  # (field, desc, nulls_last)
                         limit=10, offset=None)
        n = txn.count("Contact", where=...)      # SELECT COUNT() — one query
        rec = txn.retrieve("Contact", id, fields=None)   # one record or None (no limit cost)
        txn.usage.as_dict()               # {"soql", "query_rows", "dml", "dml_rows"}
        results = txn.insert(..., all_or_none=False)  # per record: {"id", "success", "errors"};
                                  # a record whose after-save flow fails is failed alone
        txn.usage.header()                # "soql=3/100; query_rows=…; dml=…; dml_rows=…"

    org.describe("Contact") -> schema.ObjectDef  (fields: FieldDef with name, label, type, length,
        nillable, reference_to, relationship_name, createable, updateable, external_id, unique,
        default_value, picklist_values, restricted_picklist, custom); org.sobjects() -> [ObjectDef]
    org.define_object("Foo__c", label=..., plural=...) -> ObjectDef   # idempotent
    org.add_custom_field("Foo__c", FieldDef | field-meta XML bytes) -> FieldDef  # idempotent
    org.install_source(folder)            # objects/ of a source-format folder

    org.deploy_flow(name, xml_bytes) -> version number   # Metadata API deploy of one Flow
    org.activate_flow(name, version)      # version=None deactivates
    org.flows() -> [{"name", "label", "process_type", "active_version", "latest_version",
                     "versions": [{"version", "status"}]}]
    org.flow_xml(name, version=None) -> bytes  # None: the version that runs (active, else latest)
    org.save_component(kind, full_name, file_name, body)   # other deployed metadata (Layout…)
    org.component(kind, full_name) -> {"kind", "full_name", "file_name", "body",
                                       "last_modified"} | None;  org.components(kind) -> [...]
    org.on_after_insert(handler)          # handler(txn, sobject, records) after each insert
    org.on_after_update(handler)          # … after each update
    org.on_after_delete(handler)          # … after each delete (records as they were)
    txn.query_many(sobject, fields, [(where, order_by, limit), …])  # one SOQL, many filters
    txn.flow_log                          # flow interviews finished in this transaction
    txn.after_commit.append(job)          # job() runs after this transaction commits

Every query counts 1 SOQL plus its rows, every insert/update/delete 1 DML plus its rows, against
the governor limits in `localorg.limits` (a breach raises `LimitException` and rolls back).
Errors are `errors.SalesforceError` / `errors.DmlError` with Salesforce's error codes.

Modules, by job (the HTTP layer, `localorg.server`, only parses requests and shapes responses):
- the org: `org` (the `Org` facade), `persistence` (all SQL), `settings` (org settings such as
  Shared Activities), `packages` (`Package`);
- records: `dml` (`Transaction`: insert/update/delete, savepoints, value normalisation),
  `rules/` (per-object rules: Event, EventRelation, child Events, User, Lead, people),
  `convert` (convertLead), `collections` (sObject Collections and upsert);
- queries: `query` (the one query engine), `soql_run` (a SOQL text run, query locators),
  `tooling` and `setup_views` (read-only virtual objects queried by the same engine);
- metadata: `deploy`, `retrieve`, `jobs` (their async ids), `metadata_types`, `flow_refs`,
  `flow_checks` (flow formulas and Get Records limits a deploy refuses),
  `package_deploy` (InstalledPackage upgrades); `api_usage` (Sforce-Limit-Info).
"""

from localorg.backend.org import ADMIN_EMAIL, Org
from localorg.backend.packages import Package

__all__ = ["ADMIN_EMAIL", "Org", "Package"]
