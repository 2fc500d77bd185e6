"""The query engine: field paths, filters with SOQL's semantics, sort, projection, count.

Filtering runs in Python with SOQL's semantics (case-insensitive text, null rules, polymorphic
parent fields), which SQLite's collation can't express. When a filter requires a plain field to
equal one of some text values (`=` or `IN`, alone or in a top-level AND), SQLite first narrows the
rows by an index on that field's folded value (`persistence.Database.matching_rows`), and the
Python filter then runs on those rows only; other filters scan every row of the object.

Each function takes the open `dml.Transaction` (`txn`), whose governor usage it charges, and
queries the org's records, or the objects of another `catalog` (the Tooling API's read-only
objects: `backend.tooling`).
A catalog has describe(name), sobjects(), rows(sobject) and fetch(id) -> (sobject, row).
"""

from localorg import ids
from localorg.conditions import And, Cmp, Not, Or, evaluate, fields_of, fold
from localorg.errors import DmlError, SalesforceError
from localorg.schema import name_object
from localorg.soql import INVALID_FIELD_HINT, RELATIONSHIP_HINT

NAME_OBJECT = name_object()
_TYPED = ("id", "reference", "boolean", "int", "double", "currency", "percent", "date",
          "datetime")


def retrieve(txn, sobject, record_id, fields=None):
    """One record by id as stored (all fields, or `fields`), or None. Not a SOQL query."""
    odef = txn.org.describe(sobject)
    try:
        rid = ids.to18(record_id)
    except ValueError:
        raise SalesforceError("MALFORMED_ID", f"malformed id {record_id}") from None
    found, record = txn.org.db.fetch(rid)
    if found != odef.name:
        return None
    if fields is None:
        return record
    return {odef.field(f).name: record.get(odef.field(f).name) for f in fields}


class Records:
    """The catalog of the org's own objects and records (the data API's)."""

    def __init__(self, org):
        self.org = org
        self.describe = org.describe
        self.sobjects = org.sobjects
        self.rows = org.db.rows
        self.fetch = org.db.fetch
        self.indexable = org.db.indexable
        self.matching_rows = org.db.matching_rows  # [(rowid, row)] by an indexed field value


def select(txn, sobject, fields, where=None, order_by=None, limit=None, offset=None):
    """Records matching `where`, projected on `fields`, sorted by `order_by`
    [(path, desc, nulls_last)]. Counts 1 SOQL query + returned rows."""
    resolver, paths, rows = find(txn, sobject, fields, where, order_by, limit, offset)
    return [resolver.project(r, paths) for r in rows]


def find(txn, sobject, fields, where=None, order_by=None, limit=None, offset=None,
         catalog=None):
    """(resolver, canonical paths of `fields`, stored rows) of a query, for callers that shape
    the rows themselves (`resolver.project(row, paths, url)`). Counts as `select`."""
    catalog = catalog or Records(txn.org)
    resolver = Resolver(catalog, catalog.describe(sobject))
    paths = [resolver.check(f) for f in fields]
    rows = _sort(resolver, resolver.matching(txn, where), order_by)[offset or 0:]
    if limit is not None:
        rows = rows[:limit]
    txn.usage.count_query(len(rows))
    return resolver, paths, rows


def select_many(txn, sobject, fields, requests):
    """Several filters on one object as ONE SOQL query, as a bulkified flow element does.

    `requests` is a list of (where, order_by, limit); returns one result list per request.
    Counts 1 query, and as rows the distinct records matched by any request (what the
    combined query retrieves)."""
    resolver = Resolver(Records(txn.org), txn.org.describe(sobject))
    paths = [resolver.check(f) for f in fields]
    read = paths + [resolver.check(p) for _, order_by, _ in requests for p, _, _ in order_by or ()]
    prepared = []
    for where, _, _ in requests:
        checked = [resolver.check(f) for f in fields_of(where)]  # INVALID_FIELD first
        read += checked
        prepared.append(resolver.normalise_condition(txn, where))
    # the stored fields the query reads: selected, filtered on, sorted by
    stored = {"Id"} | {p[0][1] if isinstance(p[0], tuple) else p[0] for p in read}
    conds = [resolver._index_cond(where) for where in prepared]
    keys = [resolver.key_of(cond) for cond in conds]
    pools = _pools(resolver, keys, stored)
    every = None
    results, matched = [], set()
    for (_, order_by, limit), where, key, cond in zip(requests, prepared, keys, conds,
                                                      strict=True):
        if key is None:
            every = every if every is not None else txn.org.db.rows(resolver.odef.name)
            rows = every
        else:
            pool = pools[key[0]]
            rows = [r for _, r in sorted(hit for k in set(key[1]) for hit in pool.get(k, ()))]
        hits = resolver.keep(where, rows, decided=cond)
        matched.update(r["Id"] for r in hits)
        hits = _sort(resolver, hits, order_by)
        results.append(hits[:limit] if limit is not None else hits)
    txn.usage.count_query(len(matched))
    txn.known_to_exist(matched)
    if all(len(p) == 1 and isinstance(p[0], str) for p in paths):  # no parent: plain fields
        names = [p[0] for p in paths]
        return [[{n: r.get(n) for n in names} for r in hits] for hits in results]
    return [[resolver.project(r, paths) for r in hits] for hits in results]


def _pools(resolver, keys, stored) -> dict:
    """{field: {folded value: [(rowid, row)]}}: the rows the index keys (`index_key`) of one
    bulkified query's conditions may match, read by ONE indexed lookup per field; each row
    holds only the `stored` fields (those the query reads)."""
    wanted = {}
    for key in keys:
        if key is not None:
            wanted.setdefault(key[0], set()).update(key[1])
    pools = {}
    for field, keys in wanted.items():
        pool = pools[field] = {}
        for rowid, row in resolver.catalog.matching_rows(resolver.odef.name, field, sorted(keys),
                                                         sorted(stored)):
            pool.setdefault(fold(row.get(field)), []).append((rowid, row))
    return pools


def count(txn, sobject, where=None, catalog=None) -> int:
    """SELECT COUNT() — one query; each counted record is a query row, as in Salesforce."""
    catalog = catalog or Records(txn.org)
    resolver = Resolver(catalog, catalog.describe(sobject))
    n = len(resolver.matching(txn, where))
    txn.usage.count_query(n)
    return n


def name_value(record: dict, field: str):
    """A field of the `Name` object, read from the related record (a User, Contact, Lead…):
    its own value when it has the field; NameOrAlias is the Name, else the Alias."""
    if field == "NameOrAlias":
        return record.get("Name") or record.get("Alias")
    return record.get(field)


def _plain_field(parts) -> bool:
    """Whether checked path parts name a field of the record itself, read as `row.get(name)`."""
    return len(parts) == 1 and isinstance(parts[0], str)


def _object_type(parts) -> bool:
    """Whether checked path parts end on `Type` through a polymorphic relationship (`Who.Type`):
    the Name object's Type is the related record's object, not a field of that record."""
    return len(parts) > 1 and parts[-1] == "Type" and parts[-2][2]


def _sort(resolver, rows, order_by):
    for fpath, desc, nulls_last in reversed(order_by or []):
        parts = resolver.check(fpath)
        if nulls_last is None:
            nulls_last = bool(desc)
        if _plain_field(parts):
            valued = [(r.get(parts[0]), r) for r in rows]
        else:
            valued = [(resolver.get(r, parts), r) for r in rows]
        present = [(fold(v), r) for v, r in valued if v is not None]
        absent = [r for v, r in valued if v is None]
        present.sort(key=lambda pair: pair[0], reverse=bool(desc))
        present = [r for _, r in present]
        rows = present + absent if nulls_last else absent + present
    return rows


class Resolver:
    """Field paths of one query: validation, parent lookups, filtering, projection."""

    def __init__(self, catalog, odef):
        self.catalog = catalog
        self.odef = odef
        self._parents = {}
        self._paths = {}
        self._targets = {}

    def matching(self, txn, where, rows=None) -> list:
        """The rows (default: every record of the object) that satisfy `where`."""
        where = self.prepare(txn, where)
        if rows is None:
            key = self.index_key(where)
            rows = (self.catalog.rows(self.odef.name) if key is None else
                    [r for _, r in self.catalog.matching_rows(self.odef.name, *key)])
        return self.keep(where, rows)

    def prepare(self, txn, where):
        """`where` checked (INVALID_FIELD) and with its values in their fields' stored form."""
        for f in fields_of(where):
            self.check(f)
        return self.normalise_condition(txn, where)

    def keep(self, where, rows, decided=None) -> list:
        """The rows that satisfy a prepared condition. `decided`: its index condition
        (`_index_cond`) when the rows are those whose folded field equals one of that
        condition's index keys (`index_key`), so that comparison holds."""
        tests = self._plain(where)
        if tests is None:
            return [r for r in rows if evaluate(where, lambda f, r=r: self.get(r, f))]
        if decided is not None:
            tests = [t for t, c in zip(tests, self._conds(where), strict=True)
                     if c is not decided]
        if not tests:
            return list(rows)
        return [r for r in rows if all(evaluate(t, r.get) for t in tests)]

    def _plain(self, where):
        """A Cmp or an And of Cmps on plain fields (no parent): its comparisons with each
        field's canonical name, to test against a row's own values; else None."""
        tests = []
        for cond in self._conds(where):
            if not isinstance(cond, Cmp):
                return None
            parts = self.check(cond.field)
            if not _plain_field(parts):
                return None
            tests.append(cond if cond.field == parts[0] else Cmp(parts[0], cond.op, cond.value))
        return tests

    @staticmethod
    def _conds(where):
        return where.conds if isinstance(where, And) else (where,)

    def index_key(self, where):
        """(field, [folded text]) when a prepared `where` holds only for rows whose plain field
        equals one of those texts (so an index can narrow the rows first), else None."""
        return self.key_of(self._index_cond(where))

    def key_of(self, cond):
        """`index_key` of a condition's index condition (`_index_cond`)."""
        if cond is None:
            return None
        values = [cond.value] if cond.op == "=" else list(cond.value)
        return self.check(cond.field)[0], [v.lower() for v in values]

    def _index_cond(self, where):
        """The first `=` or `IN` of `where` (alone or in its top-level And) on a plain,
        indexable field with text values, or None."""
        if not hasattr(self.catalog, "matching_rows") or where is None:
            return None
        for cond in self._conds(where):
            if not isinstance(cond, Cmp) or cond.op not in ("=", "IN"):
                continue
            parts = self.check(cond.field)
            values = [cond.value] if cond.op == "=" else list(cond.value)
            if (len(parts) == 1 and all(isinstance(v, str) for v in values)
                    and self.catalog.indexable(self.odef.name, parts[0])):
                return cond
        return None

    def check(self, path: str) -> list:
        """Canonical path parts; INVALID_FIELD when a part does not exist."""
        if path not in self._paths:
            self._paths[path] = self._check(path)
        return self._paths[path]

    def _check(self, path: str) -> list:
        parts = path.split(".")
        odefs, out = [self.odef], []
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                if part.lower() == "type" and i > 0 and out[-1][2]:
                    out.append("Type")
                    break
                hits = [o.field(part) for o in odefs if o.has(part)]
                if not hits:
                    where = odefs[0].name
                    raise SalesforceError(
                        "INVALID_FIELD",
                        f"No such column '{part}' on entity '{where}'. {INVALID_FIELD_HINT}",
                        [path])
                out.append(hits[0].name)
            else:
                rel = next((o.relationship(part) for o in odefs if o.relationship(part)), None)
                if rel is None:
                    raise SalesforceError(
                        "INVALID_FIELD",
                        f"Didn't understand relationship '{part}' in field path. "
                        f"{RELATIONSHIP_HINT}", [path])
                out.append((rel.relationship_name, rel.name, rel.polymorphic))
                if rel.polymorphic:
                    # fidelity: SOQL / a polymorphic relationship exposes the Name object only
                    odefs = [NAME_OBJECT]
                    continue
                known = {o.name: o for o in self.catalog.sobjects()}
                odefs = [known[t] for t in rel.reference_to if t in known] or list(known.values())
        return out

    def _parent(self, rid):
        if rid not in self._parents:
            self._parents[rid] = self.catalog.fetch(rid)
        return self._parents[rid]

    def get(self, record, path):
        parts = self.check(path) if isinstance(path, str) else path
        current, sobject = record, self.odef.name
        for part in parts:
            if current is None:
                return None
            if isinstance(part, tuple):
                rid = current.get(part[1])
                sobject, current = self._parent(rid) if rid else (None, None)
            elif _object_type(parts):
                return sobject
            else:
                return name_value(current, part) if parts[-2:-1] and parts[-2][2] \
                    else current.get(part)
        return None

    def project(self, record, paths, url=None) -> dict:
        """The record's selected fields, parents as nested dicts with `attributes`. With
        `url(sobject, id)`, the record and its parents have `attributes` {"type", "url"}."""
        out = {}
        if url is not None:
            out["attributes"] = {"type": self.odef.name, "url": url(self.odef.name, record["Id"])}
        for parts in paths:
            node, current, sobject = out, record, self.odef.name
            for part in parts[:-1]:
                rid = current.get(part[1]) if current else None
                sobject, current = self._parent(rid) if rid else (None, None)
                if current is None:
                    node[part[0]] = None
                    break
                # Through a polymorphic relationship the parent's type is `Name`; its url
                # still names the record's own object (recorded: GET_tooling_query_polymorphic_
                # parent_type_Name.json); without `url`, `urlType` says which (rest.py).
                attributes = {"type": "Name" if part[2] else sobject}
                if url is not None:
                    attributes["url"] = url(sobject, rid)
                elif part[2]:
                    attributes["urlType"] = sobject
                node = node.setdefault(part[0], {"attributes": attributes})
            else:
                last = parts[-1]
                if _object_type(parts):
                    node[last] = sobject
                elif len(parts) > 1 and parts[-2][2]:
                    node[last] = name_value(current, last)
                else:
                    node[last] = current.get(last)
        return out

    def normalise_condition(self, txn, cond):
        """Literal values converted to the stored form of their field (datetimes, ids…)."""
        if cond is None:
            return None
        if isinstance(cond, And | Or):
            return type(cond)(*(self.normalise_condition(txn, c) for c in cond.conds))
        if isinstance(cond, Not):
            return Not(self.normalise_condition(txn, cond.cond))
        odef, fdef = self.target(cond.field)
        if fdef is None or fdef.type not in _TYPED or cond.op == "LIKE":
            return cond  # compared as given

        def conv(value):
            if value is None:
                return value
            if fdef.type in ("id", "reference"):
                try:
                    return ids.to18(value)
                except ValueError:
                    raise SalesforceError("INVALID_QUERY_FILTER_OPERATOR",
                                          f"invalid ID field: {value}") from None
            try:
                return txn.normalise(odef, fdef, value, check_refs=False)
            except DmlError as exc:
                raise SalesforceError("INVALID_QUERY_FILTER_OPERATOR",
                                      f"value of filter criterion for field '{fdef.name}' must "
                                      f"be of type {fdef.type}: {value}") from exc

        if cond.op in ("IN", "NOT IN"):
            return Cmp(cond.field, cond.op, [conv(v) for v in cond.value])
        return Cmp(cond.field, cond.op, conv(cond.value))

    def target(self, path):
        """(object, field) a field path ends on; field None for the Name object's `Type` or a
        field that the path's object lacks (the Name object's)."""
        if path not in self._targets:
            parts = self.check(path)
            odef, fdef = self.odef, None
            if not _object_type(parts):
                for part in parts[:-1]:
                    targets = odef.field(part[1]).reference_to
                    odef = (NAME_OBJECT if part[2] else self.catalog.describe(targets[0])
                            if targets else odef)
                fdef = odef.field(parts[-1]) if odef.has(parts[-1]) else None
            self._targets[path] = odef, fdef
        return self._targets[path]
