"""Repair and backfill: run the Event sync again for bookings that have no Event or failed."""

import json
from datetime import date, timedelta
from pathlib import Path

from cumulusci.core.exceptions import CumulusCIFailure, TaskOptionsError
from cumulusci.tasks.salesforce import BaseSalesforceApiTask
from cumulusci.utils.options import CCIOptions, Field
from simple_salesforce import format_soql
from simple_salesforce.exceptions import SalesforceError

from tasks.field_mapping import apply_mapping, field_mapping
from tasks.flow_activation import _salesforce_message
from tasks.flow_references import read_flow_folder, read_flows

BOOKING = "Calendly__CalendlyAction__c"
UUID = "Calendly__InviteeUuid__c"
KIND = "Calendly__EventTypeKind__c"
CREATED, CANCELED = "invitee.created", "invitee.canceled"
NEVER_SYNCED = (None, "Pending")
MAX_INPUTS = 200  # Salesforce's invocable action batch; also the local org's cap


class ResyncError(CumulusCIFailure):
    """Some bookings could not be synced; the others were."""


class Resync(BaseSalesforceApiTask):
    """Find bookings whose Event work is missing or failed, and run it again.

    A booking is selected when it is an ``invitee.created`` whose invitee uuid has no Event
    (never synced, made before the setup, or its Event was deleted), when its
    ``Sync_Status__c`` is ``Failed``, or when it is an ``invitee.canceled`` that was never
    synced. The sync flow (``Create_Event_Template``, the same one the booking trigger runs)
    is invoked for them through Salesforce's REST invocable-flow endpoint
    (``actions/custom/flow/<flow>``), up to 200 bookings a call, each booking passed with
    the fields the project's flows read. The flow writes each outcome on its booking; the
    task reads them back and reports them. Running it again selects nothing new, so it
    writes nothing.

    No stock CumulusCI task invokes a flow over REST for selected records.
    """

    class Options(CCIOptions):
        since: str = Field(None, description="First booking date (YYYY-MM-DD, CreatedDate, "
                           "UTC); default: the oldest booking.")
        until: str = Field(None, description="Last booking date (YYYY-MM-DD, included); "
                           "default: today.")
        flow: str = Field("Create_Event_Template", description="Autolaunched flow to run.")
        batch_size: int = Field(MAX_INPUTS, description="Bookings per call, 1 to 200.")
        path: Path = Field(Path("flows"), description="Folder of the project's flows.")
        dry_run: bool = Field(False, description="List what would be synced; write nothing.")

    parsed_options: Options

    def _init_options(self, kwargs):
        super()._init_options(kwargs)
        opts = self.parsed_options
        self.since = _date("since", opts.since)
        self.until = _date("until", opts.until)
        if self.since and self.until and self.since > self.until:
            raise TaskOptionsError(f"since {self.since} is after until {self.until}.")
        if not 1 <= opts.batch_size <= MAX_INPUTS:
            raise TaskOptionsError(f"batch_size must be 1 to {MAX_INPUTS}, not {opts.batch_size}.")
        root = Path(self.project_config.repo_root or ".")
        folder = opts.path if opts.path.is_absolute() else root / opts.path
        if not read_flow_folder(folder):
            raise TaskOptionsError(f"path {opts.path} holds no *.flow-meta.xml files.")
        self.flow_dir = folder
        self.mapping = field_mapping(self.project_config)

    def _run_task(self):
        fields = self._booking_fields()
        bookings = self._bookings(fields)
        with_event = self._uuids_with_event(
            {b[UUID] for b in bookings if b["Name"] == CREATED and b.get(UUID)}
        )
        selected = [(b, reason) for b in bookings if (reason := _reason(b, with_event))]
        dry_run = self.parsed_options.dry_run
        # The same keys in a dry run and a real one, as the other writing tasks: would_sync
        # is empty in a real run, synced and failed in a dry run.
        self.return_values = {
            "dry_run": dry_run,
            "checked": len(bookings),
            "would_sync": [_row(b, reason) for b, reason in selected] if dry_run else [],
            "synced": [],
            "failed": [],
            "calls": 0,
        }
        self.logger.info(
            f"{len(bookings)} booking(s) checked{self._range_text()}; "
            f"{len(selected)} to sync."
        )
        for booking, reason in selected:
            self.logger.info(f"  {booking['Id']} {booking['Name']} {booking.get(UUID)}: {reason}")
        if not selected or dry_run:
            if dry_run and selected:
                self.logger.info("Dry run: nothing written.")
            return
        self._invoke([booking for booking, _ in selected], fields)
        self._report(selected)

    def _range_text(self):
        if not (self.since or self.until):
            return ""
        return f" from {self.since or 'the first'} to {self.until or 'today'}"

    def _booking_fields(self) -> list:
        """The booking fields the project's flows read (after the field mapping), plus ours."""
        flows = apply_mapping(self, read_flow_folder(self.flow_dir))
        read = set(read_flows(flows).fields.get(BOOKING, {}))
        return sorted(read | {"Id", "Name", UUID, KIND, "Sync_Status__c", "CreatedDate"})

    def _bookings(self, fields) -> list:
        where = []
        if self.since:
            where.append(f"CreatedDate >= {self.since.isoformat()}T00:00:00Z")
        if self.until:
            where.append(f"CreatedDate < {(self.until + timedelta(days=1)).isoformat()}T00:00:00Z")
        soql = f"SELECT {', '.join(fields)} FROM {BOOKING}"
        if where:
            soql += " WHERE " + " AND ".join(where)
        soql += " ORDER BY CreatedDate, Id"
        records = self.sf.query_all(soql)["records"]
        for record in records:
            record.pop("attributes", None)
        return records

    def _uuids_with_event(self, uuids) -> set:
        found = set()
        ordered = sorted(uuids)
        for start in range(0, len(ordered), MAX_INPUTS):
            chunk = ordered[start:start + MAX_INPUTS]
            soql = format_soql(
                "SELECT Calendly__InviteeUuid__c FROM Event WHERE IsChild = false AND "
                "Calendly__InviteeUuid__c IN {}", chunk
            )
            found.update(r[UUID] for r in self.sf.query_all(soql)["records"])
        return found

    def _invoke(self, bookings, fields):
        self.refused = {}  # {booking Id: the invocable action's error}
        guest, host = self.mapping["guest_emails"], self.mapping["host_emails"]
        size = self.parsed_options.batch_size
        for start in range(0, len(bookings), size):
            chunk = bookings[start:start + size]
            inputs = [
                {
                    "booking": {"attributes": {"type": BOOKING},
                                **{f: b.get(f) for f in fields if f != "CreatedDate"}},
                    "guestEmails": b.get(guest) or "",
                    # The flow's contract: co-hosts only for Collective events.
                    "hostEmails": (b.get(host) or "") if b.get(KIND) == "Collective" else "",
                }
                for b in chunk
            ]
            self.return_values["calls"] += 1
            try:
                results = self.sf.restful(
                    f"actions/custom/flow/{self.parsed_options.flow}", method="POST",
                    data=json.dumps({"inputs": inputs}),
                )
            except SalesforceError as err:
                results = err.content if _is_results(err.content) else None
                if results is None:
                    raise ResyncError(
                        f"The org refused to run flow {self.parsed_options.flow}: "
                        f"{_salesforce_message(err)} Nothing was synced in this call."
                    ) from err
            for booking, result in zip(chunk, results, strict=True):
                if not result.get("isSuccess"):
                    error = "; ".join(e.get("message", "") for e in result.get("errors") or [])
                    self.refused[booking["Id"]] = error

    def _report(self, selected):
        """Read the outcome the flow wrote on each booking. Each goes to synced (with its
        status) or failed (with its error), as the row a dry run lists under would_sync."""
        ids = [booking["Id"] for booking, _ in selected]
        statuses = {}
        for start in range(0, len(ids), MAX_INPUTS):
            soql = format_soql(
                f"SELECT Id, Sync_Status__c, Sync_Error__c FROM {BOOKING} WHERE Id IN {{}}",
                ids[start:start + MAX_INPUTS],
            )
            for r in self.sf.query_all(soql)["records"]:
                statuses[r["Id"]] = (r.get("Sync_Status__c"), r.get("Sync_Error__c"))
        for booking, reason in selected:
            status, error = statuses.get(booking["Id"], (None, None))
            row = _row(booking, reason)
            if booking["Id"] in self.refused:
                self.return_values["failed"].append({**row, "error": self.refused[booking["Id"]]})
            elif status == "Failed":
                self.return_values["failed"].append({**row, "error": error})
            else:
                self.return_values["synced"].append({**row, "status": status})
        synced, failed = self.return_values["synced"], self.return_values["failed"]
        self.logger.info(f"Synced {len(synced)} booking(s); {len(failed)} failed.")
        for item in failed:
            self.logger.warning(f"  {item['id']} failed: {item['error']}")
        if failed:
            raise ResyncError(
                f"{len(failed)} of {len(ids)} booking(s) failed again; each carries its error "
                "in Sync_Error__c. Fix the cause and run calendly_resync again."
            )


def _date(name, text):
    if text in (None, ""):
        return None
    try:
        return date.fromisoformat(str(text))
    except ValueError as err:
        raise TaskOptionsError(f"{name} {text!r} is not a date: use YYYY-MM-DD.") from err


def _reason(booking, with_event) -> str | None:
    status = booking.get("Sync_Status__c")
    if status == "Failed":
        return "failed before"
    if booking["Name"] == CREATED and booking.get(UUID) and booking[UUID] not in with_event:
        return "no Event" if status not in NEVER_SYNCED else "no Event, never synced"
    if booking["Name"] == CANCELED and status in NEVER_SYNCED:
        return "cancel never synced"
    return None


def _row(booking, reason) -> dict:
    return {"id": booking["Id"], "name": booking["Name"], "uuid": booking.get(UUID),
            "reason": reason}


def _is_results(content) -> bool:
    return isinstance(content, list) and all(
        isinstance(item, dict) and "isSuccess" in item for item in content
    )
