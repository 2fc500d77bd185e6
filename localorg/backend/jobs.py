"""Asynchronous Metadata API jobs (deploys, retrieves) by their AsyncResult id.

Ids are valid 18-character Salesforce ids with the key prefix of their kind: 0Af for a deploy
request (DeployRequest), 09S for a retrieve, as real AsyncResult ids are
(0Af3B00001CMyfASAT, 09S1m000001EKBkEAO in recorded responses).
"""

import secrets
import threading
from datetime import UTC, datetime

from localorg import ids

DEPLOY_PREFIX = "0Af"
RETRIEVE_PREFIX = "09S"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class AsyncJob:
    """A deploy or retrieve, asynchronous as on Salesforce: received Pending (its AsyncResult
    says `done=false`, state Queued), the first status poll finds it InProgress, the next one
    runs it (`run`, which sets `status`) to its end. A job nobody polls never runs."""

    FINAL = ("Succeeded", "Failed", "Canceled")

    def __init__(self, job_id: str):
        self.id = job_id
        self.created = now()
        self.started = self.completed = None
        self.status = "Pending"
        self._lock = threading.Lock()

    @property
    def done(self) -> bool:
        return self.status in self.FINAL

    @property
    def success(self) -> bool:
        return self.status == "Succeeded"

    @property
    def state(self) -> str:
        """The AsyncResult state (checkStatus): Queued, InProgress or Completed."""
        return "Completed" if self.done else {"Pending": "Queued"}.get(self.status, self.status)

    def poll(self, org) -> None:
        """One status call moves the job on by one state."""
        with self._lock:
            if self.status == "Pending":
                self.status = "InProgress"
                self.started = now()
            elif self.status == "InProgress":
                self.run(org)
                self.completed = now()

    def cancel(self) -> None:
        """A job that has not finished is Canceled; nothing of it is applied."""
        with self._lock:
            if not self.done:
                self.status = "Canceled"
                self.completed = now()

    def run(self, org) -> None:
        raise NotImplementedError


class Jobs:
    """The newest `keep` jobs, found by their 15- or 18-character id."""

    def __init__(self, keep=200):
        self.keep = keep
        self._items = {}
        self._lock = threading.Lock()

    @staticmethod
    def new_id(prefix: str) -> str:
        return ids.make_id(prefix, secrets.randbelow(62**10))

    def put(self, job_id: str, job) -> None:
        with self._lock:
            self._items[job_id] = job
            while len(self._items) > self.keep:
                self._items.pop(next(iter(self._items)))

    def get(self, job_id: str):
        with self._lock:
            return self._items.get(job_id) or next(
                (v for k, v in self._items.items() if k[:15] == (job_id or "")[:15]), None)
