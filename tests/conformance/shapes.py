"""Compare a local answer with a recorded Salesforce answer: key names, value types, read values.

`differences(local, recorded, read, ignore, common_only)` walks both JSON values together and
returns one line per difference, each starting with its path (`fields[ShowAs].nillable`,
`records[0].attributes.type`):
- a key one side has and the other lacks;
- a value type that differs (null matches any type; strings are told apart by their format:
  Salesforce datetime `2011-07-07T00:37:00.000+0000`, date `2010-01-01`, or text);
- at a path matched by `read` (the values clients read), a value that differs: `equal` compares
  the values, `id` wants a valid 18-character id with the recorded key prefix, `re:<regex>` wants
  a string the regex matches in full.
List items are paired by their `name`, `value` or `referenceId` when every item has one (describe
fields, picklist values, composite subresponses), else by position. Paths matched by `ignore`
(deliberate differences) are skipped with everything under them; at a path in `common_only`,
items only one side has are no difference.

Patterns are paths in which `*` stands for one key, index or item name: `fields[*].type`.
"""

import re

DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000")
DATE = re.compile(r"\d{4}-\d\d-\d\d")
ITEM_KEYS = ("name", "value", "referenceId")
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        if DATETIME.fullmatch(value):
            return "datetime"
        return "date" if DATE.fullmatch(value) else "string"
    return "array" if isinstance(value, list) else "object"


def valid_id(value) -> bool:
    """An 18-character Salesforce id whose last three characters are its case checksum."""
    if not isinstance(value, str) or not re.fullmatch(r"[a-zA-Z0-9]{18}", value):
        return False
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, ch in enumerate(value[start:start + 5]) if ch.isupper())
        suffix += _ID_CHARS[bits]
    return value[15:] == suffix


def pattern(text: str) -> re.Pattern:
    """A path pattern as a regex: `*` stands for one key, index or item name."""
    return re.compile(re.escape(text).replace(r"\*", r"[^.\[\]]*"))


class _Walk:
    def __init__(self, read, ignore, common_only):
        self.read = [(pattern(p), how) for p, how in (read or {}).items()]
        self.ignore = [pattern(p) for p in ignore or ()]
        self.common_only = [pattern(p) for p in common_only or ()]
        self.out = []

    def ignored(self, path):
        return any(rx.fullmatch(path) for rx in self.ignore)

    def walk(self, path, local, recorded):
        if self.ignored(path):
            return
        for rx, how in self.read:
            if rx.fullmatch(path):
                self.check_value(path, local, recorded, how)
        lk, rk = kind(local), kind(recorded)
        if "null" not in (lk, rk) and lk != rk:
            self.out.append(f"{path or '<body>'}: {lk} here, {rk} on Salesforce "
                            f"({_short(local)} vs {_short(recorded)})")
        elif lk == rk == "object":
            self.walk_object(path, local, recorded)
        elif lk == rk == "array":
            self.walk_array(path, local, recorded)

    def walk_object(self, path, local, recorded):
        prefix = f"{path}." if path else ""
        for key in sorted(set(local) | set(recorded), key=str):
            sub = prefix + key
            if self.ignored(sub):
                continue
            if key not in local:
                self.out.append(f"{sub}: missing here (Salesforce: {_short(recorded[key])})")
            elif key not in recorded:
                self.out.append(f"{sub}: not in Salesforce's answer (here: {_short(local[key])})")
            else:
                self.walk(sub, local[key], recorded[key])

    def walk_array(self, path, local, recorded):
        item_key = _item_key(local + recorded)
        if item_key is None:
            for i, (lv, rv) in enumerate(zip(local, recorded, strict=False)):
                self.walk(f"{path}[{i}]", lv, rv)
            return
        mine = {item[item_key]: item for item in local}
        theirs = {item[item_key]: item for item in recorded}
        lenient = any(rx.fullmatch(path) for rx in self.common_only)
        for name in sorted(set(mine) | set(theirs), key=str):
            sub = f"{path}[{name}]"
            if self.ignored(sub):
                continue
            if name in mine and name in theirs:
                self.walk(sub, mine[name], theirs[name])
            elif not lenient:
                where = "missing here" if name not in mine else "not in Salesforce's answer"
                self.out.append(f"{sub}: {where}")

    def check_value(self, path, local, recorded, how):
        where = path or "<body>"
        if how == "any_id":
            if not valid_id(local):
                self.out.append(f"{where}: {local!r} is not a valid 18-character id")
        elif how == "id":
            if not valid_id(local) or local[:3] != str(recorded)[:3]:
                self.out.append(f"{where}: {local!r} is not a valid 18-character id with "
                                f"prefix {str(recorded)[:3]!r}")
        elif how.startswith("re:"):
            if not (isinstance(local, str) and re.fullmatch(how[3:], local)):
                self.out.append(f"{where}: {local!r} does not match {how[3:]!r} "
                                f"(Salesforce: {recorded!r})")
        elif local != recorded:
            self.out.append(f"{where}: {_short(local)} here, {_short(recorded)} on Salesforce")


def _item_key(items):
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    return next((k for k in ITEM_KEYS if all(k in item for item in items)), None)


def _short(value, limit=80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def differences(local, recorded, read=None, ignore=(), common_only=()) -> list:
    walk = _Walk(read, ignore, common_only)
    walk.walk("", local, recorded)
    return walk.out


def rename_keys(value, names: dict):
    """`value` with dict keys renamed by `names` at every depth (recorded names -> local names)."""
    if isinstance(value, dict):
        return {names.get(k, k): rename_keys(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [rename_keys(v, names) for v in value]
    return value
