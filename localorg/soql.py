"""SOQL text -> the store's structured query (`localorg.conditions` trees), Salesforce's errors.

Why a parser of our own: the SOQL grammar is Salesforce's, and no offline Python SOQL parser covers
what the local org needs (positions for Salesforce's `ERROR at Row:1:Column:N` messages, the
store's condition trees). The subset is what CumulusCI, simple-salesforce and this project send:

    SELECT field, Parent.Field, ... | COUNT()  FROM Object
    [WHERE cond]  [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...]  [LIMIT n]  [OFFSET n]
    [FOR VIEW | FOR REFERENCE]

Conditions: AND / OR / NOT, parentheses, = != <> < <= > >= IN NOT IN LIKE, null, 'quoted strings'
with backslash escapes, true/false, numbers, dates and datetimes (2026-01-02, 2026-01-02T10:00:00Z).
FOR VIEW / FOR REFERENCE are parsed into `Query.usage`; the caller stamps LastViewedDate /
LastReferencedDate on the rows. Anything else (sub-queries, aggregates other than COUNT(),
GROUP BY, FOR UPDATE, TYPEOF, date literals such as TODAY) raises NOT_IMPLEMENTED naming the
clause, never a silent wrong answer.

Errors (REST body `[{"message", "errorCode"}]`), message shape as Salesforce returns it:
    "\\nSELECT Foo FROM Contact\\n       ^\\nERROR at Row:1:Column:8\\nNo such column 'Foo' ..."
"""

import re
from dataclasses import dataclass, field

from localorg.conditions import And, Cmp, Not, Or
from localorg.errors import NotImplementedInLocalOrg, SalesforceError
from localorg.values import format_datetime, parse_datetime

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>[+-]?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_UNSUPPORTED = {"GROUP", "HAVING", "TYPEOF", "WITH", "FOR", "UPDATE", "USING"}
_OPS = {"=", "!=", "<>", "<", "<=", ">", ">="}
INVALID_FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the custom "
    "field name. Please reference your WSDL or the describe call for the appropriate names."
)
INVALID_TYPE_HINT = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the entity "
    "name. Please reference your WSDL or the describe call for the appropriate names."
)
RELATIONSHIP_HINT = (
    "If you are attempting to use a custom relationship, be sure to append the '__r' after the "
    "custom relationship name. Please reference your WSDL or the describe call for the "
    "appropriate names."
)


@dataclass
class Token:
    kind: str
    text: str
    pos: int
    value: object = None


@dataclass
class Query:
    """A parsed SELECT. `refs` lists every (field path, offset) for validation against a schema."""

    sobject: str
    fields: list  # field paths as written; empty for COUNT()
    count: bool = False
    where: object = None
    order_by: list = field(default_factory=list)  # (path, descending, nulls_last)
    limit: int | None = None
    offset: int | None = None
    usage: str | None = None  # "VIEW" or "REFERENCE" (FOR VIEW / FOR REFERENCE)
    sobject_pos: int = 0
    refs: list = field(default_factory=list)
    text: str = ""


def located_error(code: str, text: str, pos: int, message: str, fields=None) -> SalesforceError:
    """Salesforce's positioned query error: the query, a caret, `ERROR at Row:r:Column:c`."""
    row = text.count("\n", 0, pos) + 1
    line_start = text.rfind("\n", 0, pos) + 1
    col = pos - line_start + 1
    line = text.split("\n")[row - 1]
    body = f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{message}"
    return SalesforceError(code, body, fields)


def _tokens(text: str) -> list:
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "ws":
            continue
        tok = Token(kind, m.group(), m.start())
        if kind == "bad":
            message = f"unexpected token: '{tok.text}'"
            raise located_error("MALFORMED_QUERY", text, m.start(), message)
        if kind == "string":
            tok.value = _unescape(text, m.start(), tok.text[1:-1])
        elif kind == "number":
            tok.value = float(tok.text) if "." in tok.text else int(tok.text)
        elif kind == "datetime":
            tok.value = format_datetime(parse_datetime(tok.text))  # API form, UTC
        elif kind == "date":
            tok.value = tok.text
        out.append(tok)
    out.append(Token("end", "", len(text)))
    return out


def _unescape(text: str, pos: int, raw: str) -> str:
    out, i = [], 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\":
            nxt = raw[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            elif nxt in "%_":  # LIKE wildcards stay escaped for the LIKE matcher
                out.append("\\" + nxt)
            else:
                raise located_error(
                    "MALFORMED_QUERY", text, pos + i + 1, f"Invalid string literal '{raw}'"
                )
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.refs = []

    # -- token helpers
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def is_kw(self, *words) -> bool:
        return self.tok.kind == "name" and self.tok.text.upper() in words

    def take(self) -> Token:
        tok = self.tok
        self.i += 1
        return tok

    def error(self, tok=None, message=None):
        tok = tok or self.tok
        if message is None:
            shown = "<EOF>" if tok.kind == "end" else f"'{tok.text}'"
            message = f"unexpected token: {shown}"
        return located_error("MALFORMED_QUERY", self.text, tok.pos, message)

    def expect_kw(self, word: str) -> Token:
        if not self.is_kw(word):
            raise self.error()
        return self.take()

    def expect(self, text: str) -> Token:
        if self.tok.text != text:
            raise self.error()
        return self.take()

    def unsupported(self, what: str):
        raise NotImplementedInLocalOrg(f"SOQL {what} (in: {self.text.strip()})")

    # -- grammar
    def parse(self) -> Query:
        self.expect_kw("SELECT")
        fields, count = self.select_list()
        self.expect_kw("FROM")
        if self.tok.kind != "name" or "." in self.tok.text:
            raise self.error()
        obj = self.take()
        query = Query(obj.text, fields, count, sobject_pos=obj.pos, text=self.text)
        if self.tok.kind == "name" and not self.is_kw(
            "WHERE", "ORDER", "LIMIT", "OFFSET", *_UNSUPPORTED
        ):
            self.take()  # an object alias: SELECT c.Id FROM Contact c
            self.unsupported("object aliases")
        if self.is_kw("WHERE"):
            self.take()
            query.where = self.condition()
        if self.is_kw(*_UNSUPPORTED) and not self.is_kw("FOR"):
            self.unsupported(f"{self.tok.text.upper()} clauses")
        if self.is_kw("ORDER"):
            self.take()
            self.expect_kw("BY")
            query.order_by = self.order_list()
        if self.is_kw("LIMIT"):
            self.take()
            query.limit = self.integer()
        if self.is_kw("OFFSET"):
            self.take()
            query.offset = self.integer()
        if self.is_kw("FOR") and self.toks[self.i + 1].text.upper() in ("VIEW", "REFERENCE"):
            self.take()
            query.usage = self.take().text.upper()
        elif self.is_kw("FOR"):
            self.take()
            if self.tok.kind != "name":
                raise self.error()
            self.unsupported(f"FOR {self.tok.text.upper()} clauses")
        if self.is_kw(*_UNSUPPORTED):
            self.unsupported(f"{self.tok.text.upper()} clauses")
        if self.tok.kind != "end":
            raise self.error()
        query.refs = self.refs
        return query

    def integer(self) -> int:
        tok = self.tok
        if tok.kind != "number" or not isinstance(tok.value, int) or tok.value < 0:
            raise self.error()
        return self.take().value

    def field_path(self) -> str:
        tok = self.tok
        if tok.kind != "name" or tok.text.upper() in ("FROM", "WHERE", "SELECT"):
            raise self.error()
        self.take()
        self.refs.append((tok.text, tok.pos))
        return tok.text

    def select_list(self):
        if self.is_kw("COUNT") and self.toks[self.i + 1].text == "(":
            self.take()
            self.take()
            if self.tok.text != ")":
                self.unsupported("aggregate COUNT(field)")
            self.take()
            return [], True
        fields = []
        while True:
            if self.tok.text == "(":
                self.unsupported("sub-queries (child relationships)")
            if self.tok.kind == "name" and self.toks[self.i + 1].text == "(":
                self.unsupported(f"function {self.tok.text}()")
            if self.is_kw("TYPEOF"):
                self.unsupported("TYPEOF")
            fields.append(self.field_path())
            if self.tok.text != ",":
                return fields, False
            self.take()

    def order_list(self) -> list:
        out = []
        while True:
            path = self.field_path()
            desc = False
            if self.is_kw("ASC", "DESC"):
                desc = self.take().text.upper() == "DESC"
            nulls_last = desc
            if self.is_kw("NULLS"):
                self.take()
                if not self.is_kw("FIRST", "LAST"):
                    raise self.error()
                nulls_last = self.take().text.upper() == "LAST"
            out.append((path, desc, nulls_last))
            if self.tok.text != ",":
                return out
            self.take()

    def condition(self):
        left = self.term()
        while self.is_kw("AND", "OR"):
            word = self.take().text.upper()
            right = self.term()
            if word == "AND":
                left = And(*left.conds, right) if isinstance(left, And) else And(left, right)
            else:
                left = Or(*left.conds, right) if isinstance(left, Or) else Or(left, right)
        return left

    def term(self):
        if self.is_kw("NOT"):
            self.take()
            return Not(self.term())
        if self.tok.text == "(":
            self.take()
            cond = self.condition()
            self.expect(")")
            return cond
        path = self.field_path()
        if self.tok.kind == "op":
            op = self.take().text.replace("<>", "!=")
            return Cmp(path, op, self.value())
        if self.is_kw("LIKE"):
            self.take()
            value = self.value()
            if not isinstance(value, str):
                raise self.error(self.toks[self.i - 1])
            return Cmp(path, "LIKE", value)
        if self.is_kw("IN"):
            self.take()
            return Cmp(path, "IN", self.value_list())
        if self.is_kw("NOT") and self.toks[self.i + 1].text.upper() == "IN":
            self.take()
            self.take()
            return Cmp(path, "NOT IN", self.value_list())
        if self.is_kw("INCLUDES", "EXCLUDES"):
            self.unsupported(f"{self.tok.text.upper()} on multi-select picklists")
        raise self.error()

    def value_list(self) -> list:
        self.expect("(")
        if self.is_kw("SELECT"):
            self.unsupported("semi-join sub-queries (IN (SELECT ...))")
        values = [self.value()]
        while self.tok.text == ",":
            self.take()
            values.append(self.value())
        self.expect(")")
        return values

    def value(self):
        tok = self.tok
        if tok.kind in ("string", "number", "datetime", "date"):
            return self.take().value
        if tok.kind == "name":
            word = tok.text.upper()
            if word in ("TRUE", "FALSE"):
                self.take()
                return word == "TRUE"
            if word == "NULL":
                self.take()
                return None
            if tok.text.startswith(":"):
                self.unsupported("bind variables")
            self.unsupported(f"date literal or expression {tok.text}")
        raise self.error()


def parse(text: str) -> Query:
    """Parse one SOQL SELECT; raises SalesforceError (MALFORMED_QUERY, NOT_IMPLEMENTED)."""
    if not text or not text.strip():
        raise SalesforceError("MALFORMED_QUERY", "A query string is required (parameter q).")
    return _Parser(text).parse()


def invalid_type(query: Query) -> SalesforceError:
    message = f"sObject type '{query.sobject}' is not supported. {INVALID_TYPE_HINT}"
    return located_error("INVALID_TYPE", query.text, query.sobject_pos, message)


def invalid_field(query: Query, path: str, pos: int, entity: str, part: str) -> SalesforceError:
    """INVALID_FIELD for `part` of `path`: a missing column or an unknown relationship."""
    if part != path.split(".")[-1]:
        message = f"Didn't understand relationship '{part}' in field path. {RELATIONSHIP_HINT}"
    else:
        message = f"No such column '{part}' on entity '{entity}'. {INVALID_FIELD_HINT}"
    return located_error("INVALID_FIELD", query.text, pos, message)
