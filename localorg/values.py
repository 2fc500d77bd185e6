"""Field values in Salesforce's REST forms, shared by the store, SOQL and the flow runtime.

    parse_datetime("2026-01-02T09:30:00.000+0000") -> aware datetime (UTC when no offset)
    format_datetime(datetime) -> "2026-01-02T09:30:00.000+0000"
    now_iso() -> the current time in that form
"""

import time
from datetime import UTC, date, datetime

_last_stamp = (None, "")


def now_iso() -> str:
    """The current time, formatted once per millisecond (a statement stamps many rows in
    one)."""
    global _last_stamp
    ms = time.time_ns() // 1_000_000  # the clock `datetime.now` reads
    last = _last_stamp
    if last[0] != ms:
        seconds, millis = divmod(ms, 1000)
        now = datetime.fromtimestamp(seconds, UTC).replace(microsecond=millis * 1000)
        last = _last_stamp = (ms, format_datetime(now))
    return last[1]


def format_datetime(value: datetime) -> str:
    """Salesforce's REST datetime form: 2026-01-02T09:30:00.000+0000 (UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_datetime(value) -> datetime:
    """Parse an ISO-8601 datetime (Z, +00:00, +0000, with or without milliseconds)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = text[:-2] + ":" + text[-2:]
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
