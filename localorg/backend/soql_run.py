"""Running one SOQL query of the data API, and the query locators of its later pages.

The REST shaping (`attributes`, urls, page bodies) is the HTTP layer's; this module parses the
text, runs it in one transaction, positions schema errors as Salesforce does, and keeps the
rows a `nextRecordsUrl` points at. Paging: REST API Developer Guide, resources_query.htm and
dome_query.htm (2,000 rows a page unless `Sforce-Query-Options: batchSize=` asks for 200-2,000).
"""

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from localorg import ids, soql
from localorg.backend import query as engine
from localorg.backend.setup_views import SetupViews, is_view
from localorg.errors import NotImplementedInLocalOrg, SalesforceError

PAGE_SIZE = 2000
MIN_PAGE_SIZE = 200
LOCATOR_PREFIX = "01g"  # key prefix of query locators, e.g. 01gD0000002HU6KIAW-2000


@dataclass
class QueryResult:
    """Rows of one query, each with `attributes` {"type", "url"}, its parents likewise."""

    sobject: str | None
    total: int
    rows: list = field(default_factory=list)


def run_soql(org, text: str, url) -> QueryResult:
    """Parse and run one SOQL query (count() queries return no rows, only the total);
    `url(sobject, id)` is a record's `attributes.url`."""
    query = soql.parse(text)
    if is_view(query.sobject):
        return _run_view(org, query, url)
    try:
        with org.transaction() as txn:
            if query.count:
                total = max(txn.count(query.sobject, where=query.where) - (query.offset or 0), 0)
                if query.limit is not None:
                    total = min(total, query.limit)
                return QueryResult(None, total)
            odef = org.describe(query.sobject)
            resolver, paths, rows = engine.find(txn, odef.name, query.fields, query.where,
                                                query.order_by, query.limit, query.offset)
            records = [resolver.project(r, paths, url) for r in rows]
            if query.usage:
                mark_used(txn, odef, query.usage, [r["Id"] for r in rows])
    except SalesforceError as exc:
        raise locate(query, exc) from None
    return QueryResult(odef.name, len(records), records)


def _run_view(org, query, url) -> QueryResult:
    """A query of a setup view (FlowDefinitionView, EntityDefinition): read-only rows."""
    if query.usage:
        raise NotImplementedInLocalOrg(f"SOQL FOR {query.usage} on {query.sobject}")
    catalog = SetupViews(org)
    odef = catalog.describe(query.sobject)
    try:
        with org.transaction() as txn:
            resolver, paths, rows = engine.find(
                txn, odef.name, [] if query.count else query.fields,
                query.where, query.order_by, query.limit, query.offset, catalog=catalog)
    except SalesforceError as exc:
        raise locate(query, exc) from None
    if query.count:
        return QueryResult(None, len(rows))
    return QueryResult(odef.name, len(rows), [resolver.project(r, paths, url) for r in rows])


def mark_used(txn, odef, usage: str, record_ids: list) -> None:
    """FOR VIEW / FOR REFERENCE: the rows are returned and their LastViewedDate /
    LastReferencedDate set to now ("FOR VIEW and FOR REFERENCE", SOQL and SOSL Reference:
    developer.salesforce.com/docs/platform/salesforce-soql-sosl/guide/
    sforce-api-calls-soql-select-for-view-for-reference.html). The local org keeps those dates
    on the record itself (one user), not in a RecentlyViewed object."""
    field_name = "LastViewedDate" if usage == "VIEW" else "LastReferencedDate"
    if not odef.has(field_name):
        raise NotImplementedInLocalOrg(
            f"SOQL FOR {usage} on {odef.name}, which has no {field_name} (Salesforce does not "
            "track it in RecentlyViewed)")
    txn.mark_used(odef.name, record_ids, field_name)


def locate(query: soql.Query, exc: SalesforceError) -> SalesforceError:
    """Add Salesforce's `ERROR at Row:1:Column:N` position to the store's schema errors."""
    if exc.code == "INVALID_TYPE":
        return soql.invalid_type(query)
    if exc.code == "INVALID_FIELD" and exc.fields:
        path = exc.fields[0]
        for ref, pos in query.refs:
            if ref.lower() == path.lower():
                body = soql.located_error(exc.code, query.text, pos, exc.message)
                return SalesforceError(exc.code, body.message)
    return exc


def page_size(options: str) -> int:
    """Rows a page from a `Sforce-Query-Options` header value ("batchSize=N", 200-2,000)."""
    for part in options.split(","):
        key, _, value = part.partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            return min(max(int(value), MIN_PAGE_SIZE), PAGE_SIZE)
    return PAGE_SIZE


class Cursors:
    """Query results waiting for their next page, newest `keep` kept, by query locator: a
    valid 18-character id with the 01g key prefix, as Salesforce's locators are."""

    def __init__(self, keep=50):
        self.keep = keep
        self._items = OrderedDict()
        self._lock = threading.Lock()

    def add(self, records: list) -> str:
        locator = ids.make_id(LOCATOR_PREFIX, secrets.randbelow(62**10))
        with self._lock:
            self._items[locator] = records
            while len(self._items) > self.keep:
                self._items.popitem(last=False)
        return locator

    def get(self, locator: str) -> list:
        """The rows of a locator ("<locator>-<offset>" is split by the caller)."""
        with self._lock:
            found = self._items.get(locator)
        if found is None:
            raise SalesforceError("INVALID_QUERY_LOCATOR", "invalid query locator")
        return found

    def page(self, locator_text: str) -> tuple:
        """(locator, rows, offset) of a nextRecordsUrl's last segment "<locator>-<offset>"."""
        cursor, _, offset = locator_text.rpartition("-")
        if not cursor or not offset.isdigit():
            raise SalesforceError("INVALID_QUERY_LOCATOR", "invalid query locator")
        return cursor, self.get(cursor), int(offset)
