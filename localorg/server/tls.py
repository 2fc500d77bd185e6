"""The local org's TLS certificate.

simple-salesforce builds every URL as `https://{instance}/...` (simple_salesforce/api.py), so
CumulusCI can only reach an org over HTTPS. The local org therefore serves HTTPS on 127.0.0.1 with
a self-signed certificate made at first start (cryptography, a CumulusCI dependency). Clients
trust it through `REQUESTS_CA_BUNDLE` pointing at `ca-bundle.pem`: certifi's public roots plus
this certificate, so other HTTPS calls in the same shell keep working. The roots are those the
environment already trusts (`REQUESTS_CA_BUNDLE`, else certifi's), since requests lets that
variable override any per-session `verify`. The same certificates are also written as a hashed
directory, `ca/` (see `cadir`), which `bin/cci` uses: OpenSSL reads one file of it per
connection instead of parsing the whole bundle each time.

Clients that only talk to the local org (the CLI's own calls, `demo.connect`, the in-process
server of tests and benches) trust `cert.pem` alone: loading one certificate instead of the
whole bundle makes each new TLS connection about twice as fast.
"""

import datetime
import ipaddress
import os
from pathlib import Path

import certifi

from localorg.server import cadir

CERT = "cert.pem"
KEY = "key.pem"
BUNDLE = cadir.BUNDLE
CA_DIR = cadir.CA_DIR


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only (0600), from the first byte."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(path, 0o600)


def ensure_certificate(folder: Path, bundle: bool = True) -> tuple[Path, Path, Path]:
    """(cert, key, bundle) under `folder`, created when missing, unreadable or expiring within
    a day.
    bundle=False, for a server whose clients trust its certificate alone (the in-process one
    of tests and benches): the bundle and its hashed directory are not written."""
    cert_path, key_path, bundle_path = folder / CERT, folder / KEY, folder / BUNDLE
    if cert_path.exists() and key_path.exists():
        tomorrow = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
        try:
            valid = not_valid_after(cert_path.read_bytes()) > tomorrow
        except (IndexError, ValueError):  # no readable certificate (a write cut short): a new one
            valid = False
        if valid:
            if bundle:
                write_bundle(bundle_path, cert_path.read_bytes())
            return cert_path, key_path, bundle_path
    pem = new_certificate(key_path)
    cert_path.write_bytes(pem)
    if bundle:
        write_bundle(bundle_path, pem)
    return cert_path, key_path, bundle_path


def not_valid_after(pem: bytes) -> datetime.datetime:
    """When the (first) certificate of `pem` expires, read from its DER with `cadir`'s reader:
    a start with a valid certificate then needs no cryptography, whose import costs each
    server start about 30 ms of CPU."""
    validity = cadir.tbs_fields(cadir.certificates(pem)[0])[3][1]
    (_, _), (tag, end) = cadir.elements(validity)
    text = end.decode("ascii")
    if tag == 0x17:  # UTCTime, YYMMDDHHMMSSZ: YY below 50 is 20YY (RFC 5280, 4.1.2.5.1)
        text = ("19" if int(text[:2]) >= 50 else "20") + text
    return datetime.datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=datetime.UTC)


def new_certificate(key_path: Path) -> bytes:
    """A new self-signed certificate for 127.0.0.1 and localhost, valid a year; its private key
    written to `key_path` (0600). Returns the certificate as PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localorg 127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def write_bundle(bundle_path: Path, pem: bytes) -> None:
    """The roots this environment trusts plus the local org's certificate.

    Under bin/cci (or a shell that exports it), REQUESTS_CA_BUNDLE is this bundle or its
    hashed directory: the roots it was made from (recorded next to it) are used again. A
    directory of the environment's own (requests accepts one) gives the certificates of its
    files. The hashed directory `ca/` is written beside the bundle with the same content."""
    origin = bundle_path.with_name("ca-roots.txt")
    roots = Path(os.environ.get("REQUESTS_CA_BUNDLE") or certifi.where())
    own = {bundle_path.resolve(), bundle_path.with_name(CA_DIR).resolve()}
    if roots.exists() and roots.resolve() in own:
        recorded = origin.read_text().strip() if origin.is_file() else ""
        roots = Path(recorded or certifi.where())  # Path("") would be the current folder
    if not roots.exists():
        roots = Path(certifi.where())
    files = sorted(p for p in roots.iterdir() if p.is_file()) if roots.is_dir() else [roots]
    bundle = b"\n".join(p.read_bytes() for p in files) + b"\n" + pem
    try:  # first: it reads every certificate before writing any file
        cadir.write_hashed_dir(bundle_path.with_name(CA_DIR), bundle)
    except (IndexError, ValueError) as exc:
        raise ValueError(
            f"{roots} holds a CERTIFICATE block that is not a readable certificate "
            f"({type(exc).__name__}: {exc}); it is the roots this shell trusts "
            f"(REQUESTS_CA_BUNDLE, else certifi's bundle): repair it, or unset "
            f"REQUESTS_CA_BUNDLE to use certifi's, then start again.") from exc
    bundle_path.write_bytes(bundle)
    origin.write_text(f"{roots}\n")
