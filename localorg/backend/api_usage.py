"""The org's daily API request usage, as the REST API's `Sforce-Limit-Info` header reports it.

Salesforce counts API requests over a rolling 24 hours against the org's allocation
(Developer Edition: 15,000); see docs/fidelity.md, "REST, headers and errors".
"""

import threading
import time
from collections import deque

DEVELOPER_EDITION_DAILY_REQUESTS = 15000
WINDOW_SECONDS = 24 * 60 * 60


class ApiUsage:
    """Requests counted in the last 24 hours, against a daily allocation."""

    def __init__(self, limit=DEVELOPER_EDITION_DAILY_REQUESTS, clock=time.monotonic):
        self.limit = limit
        self.clock = clock
        self._stamps = deque()
        self._lock = threading.Lock()

    def exhausted(self) -> bool:
        """True when the last 24 hours already used the whole allocation: Salesforce then
        refuses API requests (REQUEST_LIMIT_EXCEEDED) until older ones leave the window."""
        now = self.clock()
        with self._lock:
            self._prune(now)
            return len(self._stamps) >= self.limit

    def _prune(self, now: float) -> None:
        while self._stamps and self._stamps[0] <= now - WINDOW_SECONDS:
            self._stamps.popleft()

    def count(self) -> int:
        """Count one request; return the requests of the last 24 hours, this one included."""
        now = self.clock()
        with self._lock:
            self._stamps.append(now)
            self._prune(now)
            return len(self._stamps)

    def header(self) -> str:
        """Count one request and return its `Sforce-Limit-Info` value: api-usage=N/M."""
        return f"api-usage={self.count()}/{self.limit}"
