"""The hashed certificate directory (`ca/`) that bin/cci trusts: OpenSSL's own subject hashes,
found by OpenSSL's lookup, kept in step with the bundle."""

import datetime
import re
import shutil
import ssl
import subprocess

import certifi
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from localorg.server import cadir
from localorg.server.tls import BUNDLE, CA_DIR, ensure_certificate

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(
    OPENSSL is None, reason="the openssl command is not installed: no reference hash to compare")


def openssl_hashes(certs: list, folder) -> list:
    """The subject hash of each DER certificate, by `openssl rehash` (one process for all)."""
    folder.mkdir()
    for number, cert in enumerate(certs):
        (folder / f"{number}.pem").write_bytes(cadir.to_pem(cert))
    subprocess.run([OPENSSL, "rehash", str(folder)], check=True, capture_output=True)
    names = {link.readlink().name: link.name.split(".")[0]
             for link in folder.iterdir() if link.is_symlink()}
    return [names[f"{number}.pem"] for number in range(len(certs))]


def self_signed(name: x509.Name) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def attribute(oid, value, kind=None):
    return x509.NameAttribute(oid, value, kind) if kind else x509.NameAttribute(oid, value)


STRING = x509.name._ASN1Type
AWKWARD = [
    # case, surrounding and repeated whitespace, PrintableString / UTF8String / IA5String
    x509.Name([attribute(NameOID.COUNTRY_NAME, "US"),
               attribute(NameOID.ORGANIZATION_NAME, "  Mixed   CASE\tOrg  "),
               attribute(NameOID.COMMON_NAME, "Root X1", STRING.PrintableString),
               attribute(NameOID.EMAIL_ADDRESS, "Admin@Example.TEST")]),
    # non-ASCII text (left as it is, only ASCII is lower-cased), a BMPString
    x509.Name([attribute(NameOID.ORGANIZATION_NAME, "Zürich Ägypten ÉCOLE"),
               attribute(NameOID.COMMON_NAME, "Wide Name", STRING.BMPString)]),
    # a multi-valued RDN (its entries sorted by their encoding) and a long name (long DER form)
    # (lower-casing and one string type reorder its entries: "Zed" sorts before "bee" only as
    # an original UTF8String against a PrintableString)
    x509.Name([x509.RelativeDistinguishedName([
        attribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Zed", STRING.UTF8String),
        attribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "bee", STRING.PrintableString),
        attribute(NameOID.COMMON_NAME, "ALPHA  b")]),
               x509.RelativeDistinguishedName([attribute(NameOID.ORGANIZATION_NAME, "x" * 150)])]),
]


@needs_openssl
def test_every_public_root_hashes_as_openssl_does(tmp_path):
    roots = cadir.certificates(open(certifi.where(), "rb").read())
    assert len(roots) > 50
    assert [cadir.subject_hash(c) for c in roots] == openssl_hashes(roots, tmp_path / "roots")


@needs_openssl
@pytest.mark.parametrize("name", AWKWARD, ids=["case-space-types", "non-ascii-bmp", "multi-rdn"])
def test_names_that_need_canonical_form_hash_as_openssl_does(name, tmp_path):
    cert = self_signed(name)
    assert [cadir.subject_hash(cert)] == openssl_hashes([cert], tmp_path / "one")


def test_the_directory_numbers_shared_hashes_and_drops_stale_files(tmp_path):
    same = x509.Name([attribute(NameOID.COMMON_NAME, "Twin")])
    first, second, other = self_signed(same), self_signed(same), self_signed(AWKWARD[0])
    pem = b"".join(cadir.to_pem(c) for c in (first, second, first, other))
    folder = cadir.write_hashed_dir(tmp_path / "ca", pem)
    twin, odd = cadir.subject_hash(first), cadir.subject_hash(other)
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{twin}.0", f"{twin}.1",
                                                                f"{odd}.0"])
    assert cadir.certificates((folder / f"{twin}.1").read_bytes()) == [second]
    kept = (folder / f"{odd}.0").stat().st_ino
    cadir.write_hashed_dir(folder, cadir.to_pem(other))
    assert [p.name for p in folder.iterdir()] == [f"{odd}.0"]
    assert (folder / f"{odd}.0").stat().st_ino == kept  # unchanged: not rewritten


def test_a_certificate_without_a_version_field_is_read(tmp_path):
    """A v1 certificate has no [0] version: its subject is the fifth tbsCertificate field."""
    der = self_signed(x509.Name([attribute(NameOID.COMMON_NAME, "v3")]))
    _, body, _ = cadir.read(der, 0)
    tag, tbs, _ = cadir.read(body, 0)
    fields = cadir.elements(tbs)
    assert fields[0][0] == 0xA0
    v1 = cadir.der(0x30, b"".join(cadir.der(t, b) for t, b in fields[1:]))
    rest = body[len(cadir.der(tag, tbs)):]
    assert cadir.subject(cadir.der(0x30, v1 + rest)) == cadir.subject(der)


def test_the_org_folder_gets_the_bundle_and_the_same_certificates_hashed(tmp_path, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    cert, _, bundle = ensure_certificate(tmp_path)
    assert bundle.name == BUNDLE
    hashed = [c for p in sorted((tmp_path / CA_DIR).iterdir())
              for c in cadir.certificates(p.read_bytes())]
    assert sorted(hashed) == sorted(cadir.certificates(bundle.read_bytes()))
    assert cadir.certificates(cert.read_bytes())[0] in hashed


def test_requests_trusts_the_local_org_through_the_directory_only(local_org, tmp_path):
    with local_org() as live:
        # the bundle and ca/ beside the server's certificate, as `localorg start` writes them
        folder = ensure_certificate(live.bundle.parent)[2].with_name(CA_DIR)
        url, token = f"{live.url}/services/data", {"Authorization": f"Bearer {live.token}"}
        assert requests.get(url, verify=str(folder), headers=token, timeout=30).status_code == 200
        roots_only = cadir.write_hashed_dir(tmp_path / "roots", open(certifi.where(), "rb").read())
        with pytest.raises(requests.exceptions.SSLError) as refused:
            requests.get(url, verify=str(roots_only), headers=token, timeout=30)
        assert isinstance(refused.value.args[0].reason.args[0], ssl.SSLCertVerificationError)



def write_in_step(folder, pem, barrier, rounds, found=None) -> list:
    """write_hashed_dir(folder/N, pem) for each round, started together with the other
    process at each round; the errors it raised (also put in `found`, a queue)."""
    errors = []
    for number in range(rounds):
        barrier.wait(30)
        try:
            cadir.write_hashed_dir(folder / str(number), pem)
        except OSError as exc:
            errors.append(repr(exc))
    if found is not None:
        found.put(errors)
    return errors


def test_two_starts_writing_the_directory_at_once_both_succeed(tmp_path):
    """Two `localorg start`s of one org folder write `ca/` at the same time (each server
    writes it at its start): neither fails, and the directory holds each certificate once."""
    import multiprocessing

    pem = open(certifi.where(), "rb").read()
    fork = multiprocessing.get_context("fork")
    barrier, found = fork.Barrier(2), fork.Queue()
    other = fork.Process(target=write_in_step, args=(tmp_path, pem, barrier, 8, found))
    other.start()
    try:
        mine = write_in_step(tmp_path, pem, barrier, 8)
        assert (mine, found.get(timeout=60)) == ([], [])
    finally:
        other.join(60)
    expected = len(cadir.certificates(pem))
    assert {len(list((tmp_path / str(n)).iterdir())) for n in range(8)} == {expected}


def test_an_empty_record_of_the_roots_falls_back_to_certifi(tmp_path, monkeypatch):
    """A shell trusting the org's own bundle, and `ca-roots.txt` empty (a start that stopped
    while writing it): the roots are certifi's, never the files of the current folder."""
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text("not a certificate\n")
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    cert, _, bundle = ensure_certificate(home)
    (home / "ca-roots.txt").write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    monkeypatch.chdir(elsewhere)
    ensure_certificate(home)
    assert bundle.read_bytes() == open(certifi.where(), "rb").read() + b"\n" + cert.read_bytes()


def test_roots_with_an_unreadable_certificate_are_named_and_nothing_is_written(tmp_path,
                                                                               monkeypatch):
    """REQUESTS_CA_BUNDLE naming a file with a certificate block that is not a certificate: the
    start fails saying which file and what to do, and leaves the org's files as they were."""
    home, roots = tmp_path / "home", tmp_path / "roots.pem"
    home.mkdir()
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    _, _, bundle = ensure_certificate(home)
    before = {p: p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()}
    roots.write_bytes(open(certifi.where(), "rb").read()
                      + b"-----BEGIN CERTIFICATE-----\nMIIBabc=\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(roots))
    with pytest.raises(ValueError, match=rf"{re.escape(str(roots))}.*REQUESTS_CA_BUNDLE"):
        ensure_certificate(home)
    assert {p: p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()} == before


def test_a_server_started_before_the_directory_existed_is_trusted_through_its_bundle(tmp_path):
    """An org still running from before `ca/` existed has only ca-bundle.pem: bin/cci,
    register and the demo name that until the org is restarted, not a folder that is not there."""
    (tmp_path / BUNDLE).write_bytes(open(certifi.where(), "rb").read())
    assert cadir.trust_path(tmp_path) == tmp_path / BUNDLE
    cadir.write_hashed_dir(tmp_path / CA_DIR, (tmp_path / BUNDLE).read_bytes())
    assert cadir.trust_path(tmp_path) == tmp_path / CA_DIR
