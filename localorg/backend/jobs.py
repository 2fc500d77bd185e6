"""Asynchronous Metadata API jobs (deploys, retrieves) by their AsyncResult id.

Ids are valid 18-character Salesforce ids with the key prefix of their kind: 0Af for a deploy
request (DeployRequest), 09S for a retrieve, as real AsyncResult ids are
(0Af3B00001CMyfASAT, 09S1m000001EKBkEAO in recorded responses).
"""

import secrets
import threading

from localorg import ids

DEPLOY_PREFIX = "0Af"
RETRIEVE_PREFIX = "09S"


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
