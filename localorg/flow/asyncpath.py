"""Asynchronous paths of record-triggered flows (`<start><scheduledPaths>` with
`<pathType>AsyncAfterCommit</pathType>`, "Run Asynchronously" in Flow Builder).

The trigger schedules the path while the triggering transaction is open (`schedule`); the path
runs only once that transaction has committed (`txn.after_commit`), and never if it rolled back.
Each batch of up to 200 triggering records runs in its own transaction, as the user who saved
them, with the asynchronous governor limits; the path reads each record as committed.

A failure in the path (an unhandled fault, a Custom Error, a limit) rolls back that asynchronous
transaction only: the triggering records stay saved. As Salesforce lists a failed interview in
"Paused and Failed Flow Interviews", the org keeps a FlowInterview row (InterviewStatus `Error`,
`Error`, `CurrentElement`) that SOQL reads (backend/setup_views.py). Every run is also kept in
`AsyncPaths.runs` (flow, records, error, governor usage, the interviews' flow log), which the
scenario runner reports. See docs/fidelity.md, Flow runtime, for what is documented and assumed.
"""

import uuid

from localorg.errors import SalesforceError
from localorg.flow.interpreter import Interview
from localorg.flow.scheduler import Runtime, batches
from localorg.limits import MAX_SOQL_ASYNC, Usage
from localorg.values import now_iso

FAILED = "failed_flow_interviews"  # org meta: the FlowInterview rows of failed async paths


class AsyncPaths:
    """Queue and run the asynchronous paths of one org's record-triggered flows."""

    def __init__(self, org, cache):
        self.org = org
        self.cache = cache
        self.runs = []  # one entry per asynchronous transaction, oldest first

    def schedule(self, txn, flow, records):
        """Run `flow`'s async path for `records` after `txn` commits."""
        sobject = records[0]["attributes"]["type"]
        ids = [record["Id"] for record in records]
        user_id = txn.user_id
        txn.after_commit.append(lambda: self.run(flow, sobject, ids, user_id))

    def run(self, flow, sobject, ids, user_id):
        for batch in batches(ids):
            self._run_batch(flow, sobject, batch, user_id)

    def _run_batch(self, flow, sobject, ids, user_id):
        entry = {"flow": flow.name, "path": "AsyncAfterCommit", "sobject": sobject,
                 "records": list(ids), "error": None, "usage": None, "flow_log": []}
        self.runs.append(entry)
        kept = []  # (id, record) of the records still there: a deleted one has nothing to run
        try:
            with self.org.transaction(user_id=user_id) as txn:
                txn.usage = Usage(max_soql=MAX_SOQL_ASYNC)
                try:
                    runtime = Runtime(self.org, txn, self.cache)
                    for rid in ids:
                        rec = txn.retrieve(sobject, rid)
                        if rec is not None:
                            kept.append((rid, {**rec, "attributes": {"type": sobject}}))
                    runtime.run([Interview(runtime, flow, record=rec, start=flow.async_start)
                                 for _, rec in kept])
                finally:
                    entry["usage"] = txn.usage.as_dict()
                    entry["flow_log"] = list(txn.flow_log)
        except SalesforceError as exc:
            index = getattr(exc, "interview", None)
            entry["error"] = {"code": exc.code, "message": exc.message,
                              "element": getattr(exc, "element", None),
                              "record": kept[index][0] if index is not None else None}
            self._keep_failure(flow, entry["error"], user_id)

    def failed_interviews(self) -> list:
        """The FlowInterview rows of the failed asynchronous interviews, oldest first."""
        with self.org.db.lock:
            return self.org.db.meta(FAILED, [])

    def _keep_failure(self, flow, error, user_id):
        """The failed interview as a FlowInterview row, written outside the rolled-back
        transaction so that it stays."""
        with self.org.transaction(user_id=user_id):
            db = self.org.db
            stamp = now_iso()
            rows = db.meta(FAILED, [])
            rows.append({
                "Id": db.next_id("0Fo"), "Name": f"{flow.label} {stamp}",
                "Guid": uuid.uuid4().hex, "InterviewLabel": f"{flow.label} {stamp}",
                "InterviewStatus": "Error", "CurrentElement": error["element"],
                "Error": f"{error['code']}: {error['message']}", "PauseLabel": None,
                "WasPausedFromScreen": False, "OwnerId": user_id, "CreatedById": user_id,
                "CreatedDate": stamp, "LastModifiedDate": stamp})
            db.set_meta(FAILED, rows)
