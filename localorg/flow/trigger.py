"""Record-triggered flows: run the org's active after-save flows when records are inserted.

`FlowTrigger(org).install()` registers it with the org's after insert/update/delete hooks;
`Org(..., run_flows=True)` (the default) does that for every org. After an insert it runs every
active flow whose start is `RecordAfterSave` on that object with `recordTriggerType` Create or
CreateAndUpdate, in `triggerOrder` then name order, over the records that meet the entry
conditions, 200 interviews at a time (bulkified, see scheduler.py).

Failures answer like Salesforce: a Custom Error element fails the save with
FIELD_CUSTOM_VALIDATION_EXCEPTION and its message; an unhandled fault fails it with
CANNOT_EXECUTE_FLOW_TRIGGER and Salesforce's "We can't save this record because the … process
failed" text; limit exceptions pass through. Each error propagates out of the DML call, so the
caller's transaction rolls back. A flow's asynchronous path (AsyncAfterCommit) runs after the
transaction commits, in its own transaction (asyncpath.py). Trigger kinds this runtime does not
run (before-save, update, delete, time-based scheduled paths) raise NOT_IMPLEMENTED naming the
flow rather than being skipped.
"""

from localorg.errors import (
    DmlError,
    LimitException,
    NotImplementedInLocalOrg,
    SalesforceError,
)
from localorg.flow import model
from localorg.flow.asyncpath import AsyncPaths
from localorg.flow.faults import FlowCustomError, FlowFault
from localorg.flow.interpreter import Interview
from localorg.flow.scheduler import Runtime, batches


def flow_trigger_error(flow_name, message):
    """Salesforce's error for a record-triggered flow that failed (CANNOT_EXECUTE_FLOW_TRIGGER).

    Text as Salesforce returns it, e.g. in restforce/restforce#624 and
    SFDO-Community/declarative-lookup-rollup-summaries#1035 (which also shows the fault message)."""
    return DmlError(
        "CANNOT_EXECUTE_FLOW_TRIGGER",
        f"We can't save this record because the “{flow_name}” process failed. Give your "
        f"Salesforce admin these details. {message}",
    )


class FlowTrigger:
    """After-insert/after-update handler running the org's active record-triggered flows."""

    def __init__(self, org):
        self.org = org
        self.cache = {}
        self.async_paths = AsyncPaths(org, self.cache)

    def install(self):
        self.org.on_after_insert(self.after_insert)
        self.org.on_after_update(self.after_update)
        self.org.on_after_delete(self.after_delete)
        return self

    def _flows(self, sobject):
        found = []
        for name, _version, xml in self.org.active_flows():
            flow = model.load_cached(self.cache, xml, name)
            trig = flow.trigger
            if trig and (trig["object"] or "").lower() == sobject.lower():
                found.append((trig["order"], name, flow))
        return [f for _, _, f in sorted(found, key=lambda x: (x[0], x[1]))]

    def after_update(self, txn, sobject, records):
        self._refuse(sobject, "update", ("Update", "CreateAndUpdate"))

    def after_delete(self, txn, sobject, records):
        self._refuse(sobject, "delete", ("Delete",))

    def _refuse(self, sobject, action, trigger_types):
        """NOT_IMPLEMENTED for an active flow this DML would run here but the runtime can't."""
        for flow in self._flows(sobject):
            if flow.trigger["recordTriggerType"] in trigger_types:
                raise NotImplementedInLocalOrg(
                    f"record-triggered flow {flow.name} on {action} of {sobject} (only after-save "
                    "on create runs)")

    def after_insert(self, txn, sobject, records):
        for flow in self._flows(sobject):
            trig = flow.trigger
            if trig["recordTriggerType"] not in ("Create", "CreateAndUpdate"):
                continue
            if trig["triggerType"] != "RecordAfterSave":
                raise NotImplementedInLocalOrg(
                    f"{trig['triggerType']} flow {flow.name} on {sobject} (only after-save runs)")
            timed = [u.split(":", 2)[2] for u in flow.unsupported
                     if u.startswith("start:scheduledPaths:")]
            if timed:
                raise NotImplementedInLocalOrg(
                    f"time-based scheduled paths of flow {flow.name} ({', '.join(timed)}); "
                    "only the asynchronous path (AsyncAfterCommit) runs")
            odef = self.org.describe(sobject)
            rows = [{**r, "attributes": {"type": odef.name}} for r in records]
            runtime = Runtime(self.org, txn, self.cache)
            record = None  # the record whose entry check, interview set-up or run failed
            try:
                selected = []
                for record in rows:
                    if self._entry(runtime, flow, record):
                        selected.append(record)
                if flow.async_start and selected:
                    self.async_paths.schedule(txn, flow, selected)
                for batch in batches(selected if flow.start else []):
                    interviews = []
                    for record in batch:
                        interviews.append(Interview(runtime, flow, record=record))
                    try:
                        runtime.run(interviews)
                    except SalesforceError as exc:
                        index = getattr(exc, "interview", None)
                        record = batch[index] if index is not None else None
                        raise
            except LimitException:
                raise
            except FlowCustomError as exc:
                raise DmlError(exc.code, exc.message, exc.fields,
                               record_id=record and record["Id"]) from exc
            except FlowFault as exc:
                error = flow_trigger_error(flow.label or flow.name, exc.message)
                error.record_id = record and record["Id"]
                raise error from exc

    def _entry(self, runtime, flow, record):
        probe = Interview(runtime, flow, record=record)
        return probe.program.entry()(probe)


def run_flow(org, txn, name, inputs=None):
    """Run an autolaunched flow (the version that runs: active, else latest) in `txn`;
    return its output variables. Unhandled faults raise FlowFault / FlowCustomError."""
    runtime = Runtime(org, txn)
    return runtime.run([Interview(runtime, runtime.load(name), inputs)])[0]
