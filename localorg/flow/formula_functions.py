"""The functions Salesforce allows in flow formulas, whether or not the local runtime runs them
(it runs those in formula_signatures.py), and what a formula calling another name, or one of
these the runtime does not run, is told. docs/fidelity.md, "Metadata API" and "Flow runtime".

Sources (docs/fidelity.md rows quote them): the org's own list, the `FormulaFunctionAllowedType`
rows with Type 'Flow' (object reference: https://developer.salesforce.com/docs/atlas.en-us.
object_reference.meta/object_reference/sforce_api_objects_formulafunctionallowedtype.htm), as a
published query of a real org gives them; the "Date and Time Functions" of "Formula Operators
and Functions by Context", https://help.salesforce.com/s/articleView?id=platform.customize_functions.htm;
"Flow Formula Considerations" (Salesforce Help), which lists the functions flows do not allow
(GETRECORDIDS, IMAGE, INCLUDE, PARENTGROUPVAL, PREVGROUPVAL, REQUIRESCRIPT, TIMENOW, TIMEVALUE,
VLOOKUP: not here) and lets record-triggered flows use ISCHANGED, ISNEW and PRIORVALUE.
"""

from localorg.errors import NotImplementedInLocalOrg

FLOW_FUNCTIONS = frozenset({
    # FormulaFunctionAllowedType, Type 'Flow'
    "ABS", "ACOS", "ADDMONTHS", "AND", "ASCII", "ASIN", "ATAN", "ATAN2", "BEGINS",
    "BLANKVALUE", "BR", "CASE", "CASESAFEID", "CEILING", "CHR", "CONTAINS", "COS",
    "CURRENCYRATE", "DATE", "DATETIMEVALUE", "DATEVALUE", "DAY", "DAYOFYEAR", "DISTANCE", "EXP",
    "FIND", "FLOOR", "FORMATDURATION", "FROMUNIXTIME", "GEOLOCATION", "GETSESSIONID",
    "HTMLENCODE", "HYPERLINK", "IF", "INCLUDES", "INITCAP", "ISBLANK", "ISNULL", "ISNUMBER",
    "ISOWEEK", "ISOYEAR", "ISPICKVAL", "JSENCODE", "JSINHTMLENCODE", "LEFT", "LEN", "LINKTO",
    "LN", "LOG", "LOWER", "LPAD", "MAX", "MCEILING", "MFLOOR", "MID", "MIN", "MOD", "MONTH",
    "NOT", "NOW", "NULLVALUE", "OR", "PI", "PICKLISTCOUNT", "PREDICT", "REGEX", "REVERSE",
    "RIGHT", "ROUND", "RPAD", "SIN", "SQRT", "SUBSTITUTE", "TAN", "TEXT", "TODAY", "TRIM",
    "TRUNC", "UNIXTIMESTAMP", "UPPER", "URLENCODE", "URLFOR", "VALUE", "WEEKDAY", "YEAR",
    # Date and Time Functions of a Time value, not in that list (the flow considerations do
    # not exclude them): taken as allowed, so they are never called typos
    "HOUR", "MILLISECOND", "MINUTE", "SECOND",
    # record-triggered flows
    "ISCHANGED", "ISNEW", "PRIORVALUE",
})


# Salesforce formula functions flows do not allow (the flow considerations above; TIMENOW,
# TIMEVALUE and ISCLONE: Salesforce's formula engine has them, the org's Flow list does not)
NOT_IN_FLOWS = frozenset({
    "GETRECORDIDS", "IMAGE", "INCLUDE", "ISCLONE", "PARENTGROUPVAL", "PREVGROUPVAL",
    "REQUIRESCRIPT", "TIMENOW", "TIMEVALUE", "VLOOKUP",
})


def unknown(name: str) -> str:
    """Salesforce's formula error for a function flows do not have: its formula engine's
    FunctionNotAllowedException for a Salesforce function flows do not allow, else its
    InvalidFunctionReferenceException (salesforce/formula-engine labels.xml)."""
    if name.upper() in NOT_IN_FLOWS:
        return f"Function {name.upper()} may not be used in this type of formula"
    return f"Unknown function {name.upper()}. Check spelling."


def not_implemented(name: str) -> NotImplementedInLocalOrg:
    """A Salesforce flow-formula function the local runtime does not run: it says so."""
    return NotImplementedInLocalOrg(
        f"the flow formula function {name.upper()}() (Salesforce has it; the local flow runtime "
        "cannot run it: run this flow on a scratch org or sandbox)")
