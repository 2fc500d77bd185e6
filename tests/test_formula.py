"""Formula engine: functions, operators, null semantics, errors."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from localorg.errors import NotImplementedInLocalOrg
from localorg.flow import formula
from localorg.flow.formula_compile import compile_formula
from localorg.flow.formula_functions import FLOW_FUNCTIONS

VARS = {
    "name": "Ann Lee",
    "email": " Ann@Acme.TEST ",
    "n": Decimal("2.5"),
    "blank": None,
    "d": date(2026, 3, 1),
    "dt": datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
    "rec.Subject": "Demo",
}


ENGINES = {"tree": formula.evaluate,
           "compiled": lambda parsed, resolve: compile_formula(parsed)(resolve)}
engine = {"run": formula.evaluate}


@pytest.fixture(autouse=True, params=sorted(ENGINES))
def each_engine(request):
    """Every test runs with the tree walker and with the compiled closures (same answers)."""
    engine["run"] = ENGINES[request.param]
    yield
    engine["run"] = formula.evaluate


def ev(expr, **extra):
    env = {**VARS, **extra}
    return engine["run"](formula.parse(expr), lambda ref: env[ref])


@pytest.mark.parametrize("expr,expected", [
    ('IF({!n} > 2, "big", "small")', "big"),
    ('IF({!n} > 3, "big", "small")', "small"),
    ('CASE({!name}, "Bob", 1, "Ann Lee", 2, 0)', Decimal(2)),
    ('CASE({!name}, "Bob", 1, 0)', Decimal(0)),
    ("AND(TRUE, {!n} = 2.5)", True),
    ("OR(FALSE, NOT(TRUE))", False),
    ("ISBLANK({!blank}) && ISNULL({!blank})", True),
    ('ISBLANK("x")', False),
    ('BLANKVALUE({!blank}, "dflt")', "dflt"),
    ('NULLVALUE({!name}, "dflt")', "Ann Lee"),
    ("TEXT({!n})", "2.5"),
    ("TEXT(3.0)", "3"),
    ("TEXT({!d})", "2026-03-01"),
    ('VALUE("42") + 1', Decimal(43)),
    ("LEN({!name})", Decimal(7)),
    ("LEN({!blank})", Decimal(0)),
    ("LEFT({!name}, 3)", "Ann"),
    ("RIGHT({!name}, 3)", "Lee"),
    ("MID({!name}, 5, 3)", "Lee"),
    ('FIND("Lee", {!name})', Decimal(5)),
    ('FIND("zz", {!name})', Decimal(0)),
    ('FIND("n", {!name}, 3)', Decimal(3)),
    ('FIND("e", {!name}, 0)', Decimal(0)),  # start_num 0 or less: 0, not a search from the end
    ('FIND("A", {!name}, -1)', Decimal(0)),
    ('SUBSTITUTE({!name}, " ", "_")', "Ann_Lee"),
    ("TRIM({!email})", "Ann@Acme.TEST"),
    ("LOWER(TRIM({!email}))", "ann@acme.test"),
    ("UPPER({!name})", "ANN LEE"),
    ('CONTAINS({!name}, "nn L")', True),
    ('CONTAINS({!name}, "ann")', False),
    ('BEGINS({!name}, "Ann")', True),
    ('REGEX("a@b.co", "[^@\\\\s]+@[^@\\\\s]+\\\\.[^@\\\\s]+")', True),
    ('REGEX("not an email", "[^@\\\\s]+@[^@\\\\s]+\\\\.[^@\\\\s]+")', False),
    ('REGEX("mail a@b.co now", "[^@\\\\s]+@[^@\\\\s]+\\\\.[^@\\\\s]+")', False),
    ('REGEX("mail a@b.co now", ".*@.*")', True),
    ('REGEX("line\\none", "line.one")', False),
    ('LPAD("7", 3, "0")', "007"),
    ('RPAD("ab", 4, "-")', "ab--"),
    ("ROUND(2.45, 1)", Decimal("2.5")),
    ("ROUND(-2.5, 0)", Decimal("-3")),
    ("MAX(1, 5, 3)", Decimal(5)),
    ("MIN(4, {!n})", Decimal("2.5")),
    ('DATEVALUE("2026-03-01")', date(2026, 3, 1)),
    ("DATEVALUE({!dt})", date(2026, 3, 1)),
    ("{!d} + 2", date(2026, 3, 3)),
    ('"a" & {!blank} & "b"', "ab"),
    ('"a" + "b"', "ab"),
    ("2 * 3 - 4 / 2", Decimal(4)),
    ("2 ^ 3", Decimal(8)),
    ("-{!n}", Decimal("-2.5")),
    ("1 <> 2 && 1 != 2 && 1 == 1", True),
    ("!(1 >= 2) || 1 <= 0", True),
    ("{!blank} + 1", None),
    ("{!blank} > 1", False),
    ("{!blank} = 1", False),
    ("{!blank} <> 1", False),
    ('{!blank} <> "x"', True),
    ('{!blank} = ""', True),
    ("{!blank} = {!blank}", True),
    ('"Canceled: " & {!rec.Subject}', "Canceled: Demo"),
])
def test_expressions(expr, expected):
    assert ev(expr) == expected


def test_now_is_current_and_today_is_the_running_users_date():
    assert abs((ev("NOW()") - datetime.now(UTC)).total_seconds()) < 60
    # TODAY() is $Flow.CurrentDate, today in the running user's time zone (the flow gives it)
    assert ev("TODAY() + 1", **{"$Flow.CurrentDate": date(2026, 12, 31)}) == date(2027, 1, 1)


def test_a_function_flows_lack_parses_and_fails_in_salesforce_words_when_evaluated():
    parsed = formula.parse('IF(FALSE, "a", lenn("b"))')
    assert formula.called(parsed) == ["IF", "LENN"]
    with pytest.raises(formula.FormulaError) as exc:
        engine["run"](parsed, {}.__getitem__)
    assert exc.value.message == "Unknown function LENN. Check spelling."
    with pytest.raises(formula.FormulaError) as exc:  # a Salesforce function flows do not allow
        ev("VLOOKUP(1, 2, 3)")
    assert exc.value.message == "Function VLOOKUP may not be used in this type of formula"


def test_a_flow_function_the_engine_does_not_run_is_not_implemented_never_a_typo():
    with pytest.raises(NotImplementedInLocalOrg) as exc:
        ev('HYPERLINK("https://example.com", "x")')
    assert exc.value.code == "NOT_IMPLEMENTED"
    assert "HYPERLINK()" in exc.value.message and "Unknown function" not in exc.value.message


def test_every_function_the_engine_runs_is_a_flow_function():
    assert set(formula.FUNCTIONS) <= FLOW_FUNCTIONS
    assert not {"LENN", "VLOOKUP", "IMAGE", "TIMEVALUE"} & FLOW_FUNCTIONS


@pytest.mark.parametrize("expr", ["IF(1, 2", "1 +", '"open', "1 2"])
def test_syntax_errors(expr):
    with pytest.raises(formula.FormulaError):
        formula.parse(expr)


def test_bad_arguments_are_errors():
    with pytest.raises(formula.FormulaError):
        ev('VALUE("abc")')
    with pytest.raises(formula.FormulaError):
        ev("1 / 0")
    with pytest.raises(formula.FormulaError):
        ev("IF(TRUE, 1)")
    with pytest.raises(formula.FormulaError) as exc:
        ev('REGEX("a", "(")')
    assert "REGEX: invalid regular expression '('" in exc.value.message


def test_references_listed():
    assert formula.references(formula.parse("IF({!a}, {!b.C}, LEN({!d}))")) == ["a", "b.C", "d"]


def test_every_function_has_a_signature():
    """The arity table (formula_signatures.py) covers exactly the functions the engine runs."""
    from localorg.flow.formula_signatures import SIGNATURES
    assert sorted(SIGNATURES) == sorted(formula.FUNCTIONS)


@pytest.mark.parametrize("expr, message", [
    ("LEN(1, 2)", "Incorrect number of parameters for function 'LEN()'. Expected 1, received 2"),
    ("now(1)", "Incorrect number of parameters for function 'NOW()'. Expected 0, received 1"),
    ("AND()", "Incorrect number of parameters for function 'AND()'. Expected 1, received 0"),
    ("LPAD(1)", "Incorrect number of parameters for function 'LPAD()'. Expected 2, received 1"),
    # the "Expected" count Salesforce's formula engine reports (salesforce/formula-engine)
    ("CASE(1, 2, 3, 4, 5)",
     "Incorrect number of parameters for function 'CASE()'. Expected 4, received 5"),
    ("CASE(1, 2, 3, 4, 5, 6, 7)",
     "Incorrect number of parameters for function 'CASE()'. Expected 6, received 7"),
    ('UPPER("a", "en_US", "x")',
     "Incorrect number of parameters for function 'UPPER()'. Expected 1, received 3"),
    ('FIND("a", "b", 1, 2)',
     "Incorrect number of parameters for function 'FIND()'. Expected 2, received 4"),
    ("MAX(" + ", ".join(["1"] * 256) + ")",
     "Incorrect number of parameters for function 'MAX()'. Expected 255, received 256"),
])
def test_a_call_with_the_wrong_number_of_arguments_fails_to_parse(expr, message):
    with pytest.raises(formula.FormulaError) as exc:
        formula.parse(expr)
    assert exc.value.message == message
    with pytest.raises(formula.FormulaError) as exc:  # parsed unchecked: evaluating it fails
        engine["run"](formula.parse(expr, check_arity=False), {}.__getitem__)
    assert exc.value.message == message
