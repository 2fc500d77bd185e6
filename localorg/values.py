"""Field values in Salesforce's REST forms, shared by the store, SOQL and the flow runtime.

    parse_datetime("2026-01-02T09:30:00.000+0000") -> aware datetime (UTC when no offset)
    format_datetime(datetime) -> "2026-01-02T09:30:00.000+0000"
    now_iso() -> the current time in that form
"""

from datetime import UTC, date, datetime


def now_iso() -> str:
    return format_datetime(datetime.now(UTC))


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
