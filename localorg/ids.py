"""Salesforce record ids: 15-character case-sensitive body plus the 3-character case-safe suffix.

Algorithm (Salesforce's CASESAFEID): split the 15-character id into three 5-character chunks; in
each chunk, bit i is set when character i is an upper-case letter A-Z; the 5-bit value indexes
"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345". Reference (worked example a0D30000001n7Pi -> …EAI):
https://gammone.com/en/programming/how-to-convert-salesforce-id-from-15-to-18-chars
"""

import re
import string

_SUFFIX_CHARS = string.ascii_uppercase + "012345"
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_ID_RE = re.compile(r"[0-9A-Za-z]{15}([0-9A-Za-z]{3})?")


# Each character as "1" when it is an upper-case letter, else "0"; a chunk's five such marks
# (its first character's first) name its suffix character.
_UPPER_BITS = str.maketrans({c: "1" for c in string.ascii_uppercase}
                            | {c: "0" for c in string.digits + string.ascii_lowercase})
_SUFFIX_OF_BITS = {format(bits, "05b")[::-1]: char for bits, char in enumerate(_SUFFIX_CHARS)}


def checksum(id15: str) -> str:
    """The 3-character case-safe suffix of a 15-character id (letters and digits)."""
    bits = id15[:15].translate(_UPPER_BITS)
    suffix = _SUFFIX_OF_BITS
    return suffix[bits[:5]] + suffix[bits[5:10]] + suffix[bits[10:15]]


def to18(value: str) -> str:
    """Return the 18-character form of a 15- or 18-character id; raise ValueError when malformed.

    An 18-character id whose suffix does not match its body is malformed, as on Salesforce.
    """
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise ValueError(f"malformed id: {value!r}")
    body = value[:15]
    suffix = checksum(body)
    if len(value) == 18 and value[15:].upper() != suffix:
        raise ValueError(f"malformed id: {value!r} (case-safe suffix does not match)")
    return body + suffix


def is_id(value) -> bool:
    try:
        to18(value)
    except ValueError:
        return False
    return True


def make_id(prefix: str, number: int, pod: str = "5g") -> str:
    """Build an 18-character id from a key prefix and a per-org sequence number."""
    digits = ""
    n = number
    for _ in range(10):
        digits = _BASE62[n % 62] + digits
        n //= 62
    return to18(prefix + pod + digits)


def custom_prefix(index: int) -> str:
    """Key prefix for the index-th custom object of an org: a00, a01, … a0z, a10, …"""
    return "a" + _BASE62[(index // 62) % 62] + _BASE62[index % 62]
