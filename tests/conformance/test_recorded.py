"""Replay every recorded Salesforce sample against a live local org and compare the answers.

The samples (`<checkout>/../shared/recorded/*.json`, described in docs/recorded.md) are real
responses of Salesforce's APIs with their sources. Each one is replayed on a fresh local org
(same method, path and body; what the sample needs seeded first), and the answer is compared
with the recorded one: status, content type, key names, value types, and the values clients
read (tests/conformance/shapes.py). How each sample is replayed, and every deliberate
difference with its reason, is in samples.yml next to this file; the deliberate differences are
also rows of docs/fidelity.md (checked by test_ledger.py).
"""

import json
import re
from pathlib import Path

import pytest
import requests
import yaml
from lxml import etree

from localorg.calendly import local_org
from tests.conformance.shapes import differences, rename_keys, valid_id

ROOT = Path(__file__).resolve().parents[2]
RECORDED = ROOT.parent / "shared" / "recorded"
SPEC = yaml.safe_load((Path(__file__).parent / "samples.yml").read_text())["samples"]
V = "63.0"
DATA = f"/services/data/v{V}"
MISSING = (f"the recorded Salesforce samples are not there: {RECORDED} (a 'shared' folder beside "
           "the checkout, see docs/recorded.md)")
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"


def _test_id(path: Path) -> str:
    source = json.loads(path.read_text()).get("source") if path.exists() else "no such sample"
    short = re.sub(r"@([0-9a-f]{7})[0-9a-f]{33}", r"@\1", source)
    return f"{path.stem} <- {short}"


def _params():
    if not RECORDED.is_dir():
        return [pytest.param(None, id="samples-missing", marks=pytest.mark.skip(reason=MISSING))]
    out = []
    paths = sorted(RECORDED.glob("*.json"))
    paths += [RECORDED / name for name in sorted(set(SPEC) - {p.name for p in paths})]
    for path in paths:
        reason = (SPEC.get(path.name) or {}).get("xfail")
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(path, id=_test_id(path), marks=marks))
    return out


# -- the live org


class Session:
    """A fresh local org served over HTTPS, and the requests a sample makes to it."""

    def __init__(self, live, serve=None):
        self.live = live
        self.org = live.org
        self.serve = serve  # serves another org: serve(org) -> live

    def send(self, request: dict):
        token = "wrong" if request.get("token") == "wrong" else self.live.token
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   **(request.get("headers") or {})}
        return requests.request(request["method"], self.live.url + request["path"],
                                data=request.get("body"), headers=headers, timeout=60)

    def seed(self, seed: dict) -> None:
        made = {}
        for sobject, records in (seed or {}).items():
            if isinstance(records, dict):
                records = [dict(records["record"]) for _ in range(records["count"])]
            records = [{k: _refer(v, made) for k, v in r.items()} for r in records]
            ids = made.setdefault(sobject, [])
            for start in range(0, len(records), 200):
                chunk = [{"attributes": {"type": sobject}, **r} for r in records[start:start + 200]]
                answer = self.send({"method": "POST", "path": f"{DATA}/composite/sobjects",
                                    "body": json.dumps({"allOrNone": True, "records": chunk})})
                results = answer.json()
                assert answer.status_code == 200 and all(r["success"] for r in results), results
                ids += [r["id"] for r in results]

    def deploy_flows(self, active: list) -> None:
        for path in sorted((ROOT / "flows").glob("*.flow-meta.xml")):
            name = path.name.split(".")[0]
            version = self.org.deploy_flow(name, path.read_bytes())
            if name in active:
                self.org.activate_flow(name, version)

    def local_id(self, what: str) -> str:
        if what == "org_id":
            return self.org.org_id
        if what == "package_version_id":
            answer = self.send({"method": "GET", "path": f"{DATA}/tooling/query?q=SELECT "
                                "SubscriberPackageVersionId FROM InstalledSubscriberPackage"})
            return answer.json()["records"][0]["SubscriberPackageVersionId"]
        raise KeyError(f"samples.yml: unknown local id {what!r}")


def _refer(value, made):
    if isinstance(value, str) and value.startswith("@"):
        sobject, _, index = value[1:].partition(".")
        return made[sobject][int(index)]
    return value


def recorded_request(sample: dict, session: Session, spec: dict) -> dict:
    """The sample's request as recorded (else the one samples.yml gives), made local."""
    if "request" not in sample:
        return spec["request"]
    req = sample["request"]
    path = re.sub(r"^https://[^/]+", "", req["uri"])
    body = req.get("body")
    for recorded_id, what in (spec.get("ids") or {}).items():
        path = path.replace(recorded_id, session.local_id(what))
    fix = lambda text: text and text.replace("vxx.0", f"v{V}")  # noqa: E731
    return {"method": req["method"], "path": fix(path), "body": fix(body)}


def content_type(value) -> str:
    if isinstance(value, list):
        value = value[0]
    return (value or "").replace(" ", "").lower()


def at(body, path: str):
    """The value at `path` (`[0].errorCode`, `compositeResponse[refAccount].body[0].errorCode`):
    `[name]` picks the list item whose referenceId or name is that."""
    for key, index in re.findall(r"([^.\[\]]+)|\[([^\]]+)\]", path):
        if key:
            body = body[key]
        elif index.isdigit():
            body = body[int(index)]
        else:
            body = next(item for item in body
                        if index in (item.get("referenceId"), item.get("name")))
    return body


# -- the checks


def check_deliberate(session: Session, sample: dict, spec: dict) -> list:
    problems = []
    for item in spec.get("deliberate") or ():
        req = item["request"]
        req = recorded_request(sample, session, spec) if req == "recorded" else req
        answer = session.send(req)
        expect = dict(item["expect"])
        status = expect.pop("status")
        if answer.status_code != status:
            problems.append(f"deliberate '{item['what']}': status {answer.status_code}, "
                            f"expected {status}: {answer.text[:200]}")
            continue
        for path, value in expect.items():
            try:
                found = at(answer.json(), path)
            except (KeyError, IndexError, StopIteration, ValueError):
                found = "<absent>"
            if found != value:
                problems.append(f"deliberate '{item['what']}': {path} is {found!r}, expected "
                                f"{value!r}")
    return problems


def check_exchange(session: Session, sample: dict, spec: dict) -> list:
    substitute = spec.get("substitute") or {}
    request = (substitute.get("request") or spec.get("request")
               or recorded_request(sample, session, spec))
    answer = session.send(request)
    problems = []
    status = spec.get("status", sample.get("status"))
    if answer.status_code != status:
        problems.append(f"status {answer.status_code} here, {status} on Salesforce")
    recorded_type = content_type((sample.get("headers") or {}).get("Content-Type"))
    if recorded_type and content_type(answer.headers.get("Content-Type")) != recorded_type:
        problems.append(f"content type {answer.headers.get('Content-Type')!r} here, "
                        f"{recorded_type!r} on Salesforce")
    for name, value in (spec.get("headers") or {}).items():
        if answer.headers.get(name) != value:
            problems.append(f"header {name}: {answer.headers.get(name)!r} here, {value!r} on "
                            "Salesforce")
    if problems:
        return problems + [f"answer: {answer.text[:300]}"]
    local = answer.json()
    if spec.get("body_path"):
        local = local[spec["body_path"]]
    if spec.get("select"):
        local = {k: v for k, v in local.items() if k in spec["select"]}
    recorded = rename_keys(sample["body"], substitute.get("rename") or {})
    for key in substitute.get("drop") or ():
        recorded = _without(recorded, key)
    read = {path: how for path, how in (spec.get("read") or {}).items() if how != "locator"}
    problems += differences(local, recorded, read, spec.get("ignore") or {},
                            spec.get("common_only") or {})
    for path, how in (spec.get("read") or {}).items():
        if how == "locator":
            problems += _check_locator(path, at(local, path))
    if spec.get("next_200_headers"):
        good = session.send({**request, "token": None})
        for name, rx in spec["next_200_headers"].items():
            if not re.fullmatch(rx, good.headers.get(name) or ""):
                problems.append(f"200 answer: header {name} is {good.headers.get(name)!r}, "
                                f"Salesforce sends {sample['next_200_response_headers'][name]!r}")
    return problems


def _check_locator(path, url) -> list:
    """A nextRecordsUrl: /services/data/vNN.0/query/<18-character id>-<records so far>."""
    match = re.fullmatch(r"/services/data/v\d+\.0/query/([^-/]+)-(\d+)", str(url))
    if not match or not valid_id(match.group(1)):
        return [f"{path}: {url!r} is not /services/data/vNN.0/query/<18-character id>-<n> "
                "(Salesforce: /services/data/v26.0/query/01gD0000002HU6KIAW-2000)"]
    return []


def _without(value, key):
    if isinstance(value, dict):
        return {k: _without(v, key) for k, v in value.items() if k != key}
    if isinstance(value, list):
        return [_without(v, key) for v in value]
    return value


def check_soap_fault(session: Session, sample: dict, spec: dict) -> list:
    answer = session.send(spec["request"])
    problems = []
    if answer.status_code != spec["status"]:
        problems.append(f"status {answer.status_code} here, {spec['status']} on Salesforce")
    if not content_type(answer.headers.get("Content-Type")).startswith("text/xml"):
        problems.append(f"content type {answer.headers.get('Content-Type')!r}, not text/xml")
    mine, theirs = (_fault(etree.fromstring(x)) for x in (answer.content, sample["body"].encode()))
    problems += [f"{k}: {mine.get(k)!r} here, {v!r} on Salesforce"
                 for k, v in theirs.items() if mine.get(k) != v]
    return problems


def _fault(root) -> dict:
    fault = root.find(f"{{{SOAP_NS}}}Body/{{{SOAP_NS}}}Fault")
    if fault is None:
        return {"fault": None}
    prefix, _, code = (fault.findtext("faultcode") or "").rpartition(":")
    return {"faultcode": (fault.nsmap.get(prefix) or root.nsmap.get(prefix), code),
            "faultstring": fault.findtext("faultstring")}


def check_field_reference(session: Session, sample: dict, spec: dict) -> list:
    """The documentation sample: EventRelation's fields (those of every org, and those only an
    org with Shared Activities has) and the Name object's fields."""
    problems = []
    describe = session.send({"method": "GET",
                             "path": f"{DATA}/sobjects/EventRelation/describe"}).json()
    fields = {f["name"]: f for f in describe["fields"]}
    for entry in sample["EventRelation_fields_default_org"] + sample[
            "EventRelation_shared_activities_only"]:
        name = entry.split(" ")[0]
        if name not in fields:
            problems.append(f"EventRelation.{name}: missing here")
    if "Id" in fields and fields["Id"]["label"] != "Event Relation ID":
        problems.append(f"EventRelation.Id: label {fields['Id']['label']!r}, the documentation "
                        "says 'Event Relation ID'")
    if "Status" in fields and (fields["Status"]["type"], fields["Status"]["length"]) != (
            "picklist", 40):
        problems.append("EventRelation.Status: not a picklist of length 40")
    without = Session(session.serve(local_org(shared_activities=False)))
    names = {f["name"] for f in without.send(
        {"method": "GET", "path": f"{DATA}/sobjects/EventRelation/describe"}).json()["fields"]}
    for name in sample["EventRelation_shared_activities_only"]:
        if name in names:
            problems.append(f"EventRelation.{name}: present in an org without Shared Activities")
    for name in (entry.split(" ")[0] for entry in sample["EventRelation_fields_default_org"]):
        if name not in names:
            problems.append(f"EventRelation.{name}: missing without Shared Activities")
    targets = sorted(fields.get("RelationId", {}).get("referenceTo", []))
    if targets != sorted(sample["RelationId_refers_to"]):
        problems.append(f"EventRelation.RelationId refers to {targets}, the documentation says "
                        f"{sorted(sample['RelationId_refers_to'])}")
    for name in sample["Name_object_fields"] + ["Company"]:
        answer = session.send({"method": "GET",
                               "path": f"{DATA}/query?q=SELECT Who.{name} FROM Event"})
        expected = 400 if name == "Company" else 200
        if answer.status_code != expected:
            problems.append(f"SELECT Who.{name} FROM Event: {answer.status_code} here, "
                            f"{expected} on Salesforce (the Name object "
                            f"{'lacks' if name == 'Company' else 'has'} {name})")
    return problems


KINDS = {"field_reference": check_field_reference, "soap_fault": check_soap_fault,
         "deliberate_only": lambda *_: []}


@pytest.mark.parametrize("path", _params())
def test_recorded_sample(path, serve_org):
    assert path.name in SPEC, f"tests/conformance/samples.yml has no entry for {path.name}"
    assert path.exists(), f"samples.yml has an entry for {path.name}, which is not in {RECORDED}"
    sample = json.loads(path.read_text())
    spec = SPEC[path.name]
    session = Session(serve_org(local_org()), serve_org)
    if "flows" in spec:
        session.deploy_flows(spec["flows"].get("active") or [])
    session.seed(spec.get("seed"))
    problems = check_deliberate(session, sample, spec)
    problems += KINDS.get(spec.get("kind"), check_exchange)(session, sample, spec)
    assert not problems, f"{path.name} differs from Salesforce:\n" + "\n".join(problems)
