"""Per-transaction governor limits (synchronous Apex/flow limits).

Limits and exception texts as Salesforce documents them ("Execution Governors and Limits"):
100 SOQL queries (200 in an asynchronous transaction), 50,000 rows retrieved by SOQL, 150 DML
statements, 10,000 rows processed by DML.
Breaching one raises `System.LimitException: Too many SOQL queries: 101` (and the matching texts
below), which no fault path can catch; the transaction rolls back. Salesforce stops at the first
row over a limit, so the texts always name limit + 1 (`Too many query rows: 50001`), however
many rows the statement would have had.
"""

from dataclasses import dataclass

from localorg.errors import LimitException

MAX_SOQL = 100
MAX_SOQL_ASYNC = 200  # asynchronous transactions (an async path of a record-triggered flow)
MAX_QUERY_ROWS = 50_000
MAX_DML = 150
MAX_DML_ROWS = 10_000


@dataclass
class Usage:
    """Counters of one transaction; `as_dict()` feeds scenarios, the benchmark and the server."""

    soql: int = 0
    query_rows: int = 0
    dml: int = 0
    dml_rows: int = 0
    max_soql: int = MAX_SOQL

    def count_query(self, rows: int) -> None:
        self.soql += 1
        if self.soql > self.max_soql:
            raise LimitException(f"Too many SOQL queries: {self.soql}")
        self.query_rows += rows
        if self.query_rows > MAX_QUERY_ROWS:
            raise LimitException(f"Too many query rows: {MAX_QUERY_ROWS + 1}")

    def count_dml(self, rows: int) -> None:
        self.dml += 1
        if self.dml > MAX_DML:
            raise LimitException(f"Too many DML statements: {self.dml}")
        self.dml_rows += rows
        if self.dml_rows > MAX_DML_ROWS:
            raise LimitException(f"Too many DML rows: {MAX_DML_ROWS + 1}")

    def as_dict(self) -> dict:
        return {
            "soql": self.soql,
            "query_rows": self.query_rows,
            "dml": self.dml,
            "dml_rows": self.dml_rows,
        }

    def header(self) -> str:
        """Compact form for an HTTP response header, e.g. `soql=3/100; dml=2/150; ...`."""
        return (
            f"soql={self.soql}/{self.max_soql}; query_rows={self.query_rows}/{MAX_QUERY_ROWS}; "
            f"dml={self.dml}/{MAX_DML}; dml_rows={self.dml_rows}/{MAX_DML_ROWS}"
        )
