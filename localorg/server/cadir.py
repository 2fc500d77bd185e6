"""The trusted roots as an OpenSSL hashed certificate directory (`ca/`).

requests verifies with `REQUESTS_CA_BUNDLE`; a file there is parsed whole on every new TLS
connection (certifi's 117 roots: about 15 ms of CPU each time, and cci opens a connection
for most calls), while a directory is searched lazily: OpenSSL reads only the file named after
the issuer's subject hash (`<hash>.0`). That is the layout `openssl rehash` writes; it is made
here because a machine with Python, Node and git only may lack the `openssl` command, and
`cryptography` does not expose the hash. The hash is OpenSSL's `X509_NAME_hash`: SHA-1 of the
name's canonical encoding (each RDN as a SET, string values as UTF8String, trimmed, inner
whitespace collapsed, ASCII lower-cased), its first four bytes little-endian.
"""

import base64
import fcntl
import hashlib
import os
import re
from pathlib import Path

CA_DIR = "ca"  # beside ca-bundle.pem in the org's folder
BUNDLE = "ca-bundle.pem"

# The string types OpenSSL canonicalises (ASN1_MASK_CANON), with how each is decoded.
TEXT_TAGS = {0x0C: "utf-8", 0x13: "latin-1", 0x14: "latin-1", 0x16: "latin-1",
             0x1A: "latin-1", 0x1E: "utf-16-be", 0x1C: "utf-32-be"}
UTF8 = 0x0C
SPACE = " \t\n\v\f\r"
PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\s+(.*?)-----END CERTIFICATE-----", re.DOTALL)


def trust_path(home: Path) -> Path:
    """What REQUESTS_CA_BUNDLE names for the local org in `home`: its hashed directory, or the
    bundle file where a server started before the directory existed has written none yet."""
    folder = home / CA_DIR
    return folder if folder.is_dir() else home / BUNDLE


def der(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + body


def read(data: bytes, at: int) -> tuple[int, bytes, int]:
    """(tag, body, next offset) of the DER element at `at`."""
    tag, size, at = data[at], data[at + 1], at + 2
    if size & 0x80:
        count = size & 0x7F
        size, at = int.from_bytes(data[at:at + count], "big"), at + count
    return tag, data[at:at + size], at + size


def elements(body: bytes) -> list:
    found, at = [], 0
    while at < len(body):
        tag, inner, at = read(body, at)
        found.append((tag, inner))
    return found


def canonical_text(text: str) -> str:
    text = text.strip(SPACE)
    out, spaced = [], False
    for char in text:
        if char in SPACE:
            if not spaced:
                out.append(" ")
            spaced = True
            continue
        spaced = False
        out.append(char.lower() if char.isascii() else char)
    return "".join(out)


def canonical_value(tag: int, body: bytes) -> bytes:
    if tag not in TEXT_TAGS:
        return der(tag, body)
    return der(UTF8, canonical_text(body.decode(TEXT_TAGS[tag])).encode("utf-8"))


def tbs_fields(cert: bytes) -> list:
    """The (tag, body) fields of a DER certificate's tbsCertificate from its serial number on:
    serial, signature algorithm, issuer, validity, subject, ..."""
    _, body, _ = read(cert, 0)
    _, tbs, _ = read(body, 0)
    fields = elements(tbs)
    return fields[1:] if fields[0][0] == 0xA0 else fields  # [0] version


def subject(cert: bytes) -> bytes:
    """The body of a DER certificate's subject Name (the tbsCertificate field after the
    validity), read directly: nothing else of the certificate needs parsing."""
    return tbs_fields(cert)[4][1]


def subject_hash(cert: bytes) -> str:
    """OpenSSL's subject name hash of the DER certificate `cert`, as `openssl x509
    -subject_hash` prints it."""
    name = subject(cert)
    encoded = b""
    for _, rdn in elements(name):
        entries = []
        for _, entry in elements(rdn):
            (_, oid), (tag, value) = elements(entry)
            entries.append(der(0x30, der(0x06, oid) + canonical_value(tag, value)))
        encoded += der(0x31, b"".join(sorted(entries)))
    digest = hashlib.sha1(encoded).digest()
    return f"{int.from_bytes(digest[:4], 'little'):08x}"


def certificates(pem: bytes) -> list:
    """The DER certificates of a PEM file, each once, in their order."""
    found = {}
    for match in PEM.finditer(pem):
        found.setdefault(base64.b64decode(b"".join(match.group(1).split())), None)
    return list(found)


def to_pem(cert: bytes) -> bytes:
    text = base64.b64encode(cert)
    lines = [text[at:at + 64] for at in range(0, len(text), 64)]
    return b"\n".join([b"-----BEGIN CERTIFICATE-----", *lines, b"-----END CERTIFICATE-----", b""])


def write_hashed_dir(folder: Path, pem: bytes) -> Path:
    """`folder` holding each certificate of `pem` as `<subject hash>.<n>`; files of an earlier
    set that are no longer wanted are removed, unchanged ones left as they are. The folder is
    locked while it is written: two servers of one org folder starting at once would otherwise
    remove each other's partial files."""
    wanted, taken = {}, {}
    for cert in certificates(pem):
        name = subject_hash(cert)
        number = taken.get(name, 0)
        taken[name] = number + 1
        wanted[f"{name}.{number}"] = to_pem(cert)
    folder.mkdir(exist_ok=True)
    lock = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for path in folder.iterdir():
            if path.name not in wanted:
                path.unlink()
        for name, data in wanted.items():
            path = folder / name
            if not path.is_file() or path.read_bytes() != data:
                partial = path.with_name(name + ".partial")
                partial.write_bytes(data)
                partial.replace(path)
    finally:
        os.close(lock)  # releases the lock
    return folder
