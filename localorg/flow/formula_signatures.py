"""How many arguments each formula function the runtime implements takes, as Salesforce
documents it ("Use" on each function's Salesforce Help page), and Salesforce's error for a call
with another number, whose "Expected" count is the one Salesforce's formula engine reports
(salesforce/formula-engine: the function's `validate` or argument types). The deploy check and
the runtime both read this one table (docs/fidelity.md, "Flow runtime": formula arity).
"""

ANY = None  # no upper bound: the function is variadic

# name -> (fewest arguments, most arguments or ANY)
SIGNATURES = {
    "ABS": (1, 1),              # ABS(number)
    "AND": (1, ANY),            # AND(logical1, logical2, ...)
    "BEGINS": (2, 2),           # BEGINS(text, compare_text)
    "BLANKVALUE": (2, 2),       # BLANKVALUE(expression, substitute_expression)
    "CASE": (4, ANY),           # CASE(expression, value1, result1, ..., else_result)
    "CEILING": (1, 1),          # CEILING(number)
    "CONTAINS": (2, 2),         # CONTAINS(text, compare_text)
    "DATETIMEVALUE": (1, 1),    # DATETIMEVALUE(expression)
    "DATEVALUE": (1, 1),        # DATEVALUE(expression)
    "FIND": (2, 3),             # FIND(search_text, text[, start_num])
    "FLOOR": (1, 1),            # FLOOR(number)
    "IF": (3, 3),               # IF(logical_test, value_if_true, value_if_false)
    "ISBLANK": (1, 1),          # ISBLANK(expression)
    "ISNULL": (1, 1),           # ISNULL(expression)
    "ISNUMBER": (1, 1),         # ISNUMBER(text)
    "ISPICKVAL": (2, 2),        # ISPICKVAL(picklist_field, text_literal)
    "LEFT": (2, 2),             # LEFT(text, num_chars)
    "LEN": (1, 1),              # LEN(text)
    "LOWER": (1, 2),            # LOWER(text, [locale])
    "LPAD": (2, 3),             # LPAD(text, padded_length[, pad_string])
    "MAX": (1, 255),            # MAX(number, number, ...)
    "MID": (3, 3),              # MID(text, start_num, num_chars)
    "MIN": (1, 255),            # MIN(number, number, ...)
    "MOD": (2, 2),              # MOD(number, divisor)
    "NOT": (1, 1),              # NOT(logical)
    "NOW": (0, 0),              # NOW()
    "NULLVALUE": (2, 2),        # NULLVALUE(expression, substitute_expression)
    "OR": (1, ANY),             # OR(logical1, logical2, ...)
    "REGEX": (2, 2),            # REGEX(text, regex_text)
    "RIGHT": (2, 2),            # RIGHT(text, num_chars)
    "ROUND": (2, 2),            # ROUND(number, num_digits)
    "RPAD": (2, 3),             # RPAD(text, padded_length[, 'pad_string'])
    "SUBSTITUTE": (3, 3),       # SUBSTITUTE(text, old_text, new_text)
    "TEXT": (1, 1),             # TEXT(value)
    "TODAY": (0, 0),            # TODAY()
    "TRIM": (1, 1),             # TRIM(text)
    "UPPER": (1, 2),            # UPPER(text, [locale])
    "VALUE": (1, 1),            # VALUE(text)
}


def arity_problem(name: str, count: int):
    """Salesforce's message for `name` called with `count` arguments, or None when it fits.
    A function with optional arguments (FIND, LPAD, UPPER, ...) expects its fewest whatever the
    count; CASE takes pairs after its expression and then the else value, and its expected count
    is the engine's `4 + ((count - 4) / 2) * 2` in Java's integer arithmetic."""
    fewest, most = SIGNATURES[name]
    if name == "CASE":
        if count >= fewest and count % 2 == 0:
            return None
        expected = 4 + int((count - 4) / 2) * 2
    elif count < fewest or (most is not ANY and count > most):
        expected = most if name in ("MAX", "MIN") and count > most else fewest
    else:
        return None
    return (f"Incorrect number of parameters for function '{name}()'. Expected {expected}, "
            f"received {count}")
