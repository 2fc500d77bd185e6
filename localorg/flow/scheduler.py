"""Bulkified execution of many flow interviews in one transaction.

Design: each interview is a generator (`Interview.run`) that yields a `Request` whenever it
reaches a data element (Get/Create/Update/Delete Records), including inside subflows, which run
as nested generators. The scheduler advances every interview to its next data element, groups
the pending requests by (flow, element, kind, object), executes each group as ONE store call —
`Transaction.query_many` for lookups (1 SOQL, rows = records retrieved), one insert/update/delete
with all the group's rows (1 DML, rows = sum) — and sends each interview its share of the result,
then repeats until every interview has finished. This is how Salesforce bulkifies the interviews
of one trigger batch (up to 200 records): the same element across interviews costs one query or
one DML, while a data element inside a loop costs one per iteration.

Row-level DML failures go back to the interview that owns the row (its fault path, or an
unhandled fault); other interviews' rows of the same statement stay saved, as with Salesforce's
partial-success flow DML. Limit exceptions propagate and roll the transaction back.
"""

from localorg.errors import LimitException, SalesforceError
from localorg.flow import model

BATCH = 200  # records per trigger batch, as Salesforce chunks DML for triggers


class Runtime:
    """Flow execution context of one transaction: the store transaction and loaded flows."""

    def __init__(self, org, txn, cache=None):
        self.org = org
        self.txn = txn
        self.cache = cache if cache is not None else {}
        self.log = txn.flow_log
        self._loaded = {}
        # (object, name) -> (FieldDef, is a field, not a relationship), for field references;
        # the schema can't change inside a transaction.
        self.fields = {}
        self.writable = {}  # (object, key, creating) -> how data.writable copies that key

    def lookup(self, sobject, name):
        """(FieldDef, True) of a field, (reference FieldDef, False) of a relationship name such
        as Owner, None when `sobject` has neither (remembered for this transaction)."""
        odef = self.org.describe(sobject)
        if odef.has(name):
            found = (odef.field(name), True)
        else:
            rel = odef.relationship(name)
            if rel is None:
                return None
            found = (rel, False)
        self.fields[(sobject, name)] = found
        return found

    def field(self, sobject, name):
        """The FieldDef of field `name` (INVALID_FIELD when there is none)."""
        found = self.fields.get((sobject, name)) or self.lookup(sobject, name)
        if found is None or not found[1]:
            return self.org.describe(sobject).field(name)  # what it says of a non-field
        return found[0]

    def load(self, name):
        """The version of flow `name` that runs: active, else latest (as a subflow call does)."""
        if name not in self._loaded:  # the version that runs can't change inside a transaction
            self._loaded[name] = model.load_cached(self.cache, self.org.flow_xml(name), name)
        return self._loaded[name]

    def run(self, interviews):
        """Run interviews together to completion; return their outputs in order."""
        outputs = [None] * len(interviews)
        waiting = []
        for index, interview in enumerate(interviews):
            self._advance(index, interview.run(), None, waiting, outputs)
        while waiting:
            groups = {}
            for item in waiting:
                groups.setdefault(item[2].key, []).append(item)
            waiting = []
            for items in groups.values():
                results = self._execute([req for _, _, req in items])
                for (index, gen, _), result in zip(items, results, strict=True):
                    self._advance(index, gen, result, waiting, outputs)
        return outputs

    @staticmethod
    def _advance(index, gen, value, waiting, outputs):
        try:
            request = gen.send(value)
        except StopIteration as done:
            outputs[index] = done.value
            return
        except SalesforceError as exc:
            exc.interview = index  # which interview failed: the trigger fails its record
            raise
        waiting.append((index, gen, request))

    def _execute(self, requests):
        first = requests[0]
        try:
            if first.kind == "query":
                return self.txn.query_many(
                    first.sobject, first.fields,
                    [(r.where, r.order_by, r.limit) for r in requests])
            rows = [row for r in requests for row in r.records]
            if not rows:
                return [[] for _ in requests]
            if first.kind == "delete":
                results = self.txn.delete(first.sobject, [row["Id"] for row in rows],
                                          all_or_none=False)
            else:
                results = getattr(self.txn, first.kind)(first.sobject, rows, all_or_none=False)
        except LimitException:
            raise
        except SalesforceError as exc:
            return [exc] * len(requests)
        out, pos = [], 0
        for r in requests:
            mine = results[pos:pos + len(r.records)]
            pos += len(r.records)
            failed = next((m for m in mine if not m["success"]), None)
            if failed:
                err = failed["errors"][0]
                out.append(SalesforceError(err["errorCode"], err["message"], err["fields"]))
            else:
                out.append(mine)
        return out


def batches(records):
    for start in range(0, len(records), BATCH):
        yield records[start:start + BATCH]

