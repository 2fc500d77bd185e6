"""Every real-world flow in the shared corpus loads (unsupported elements are listed by name)
and passes the local deploy's formula and limit checks."""

from pathlib import Path

import pytest
from lxml import etree

from localorg.backend import flow_checks
from localorg.flow import model

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "flows"
FLOWS = sorted(CORPUS.glob("*.flow-meta.xml")) + sorted((ROOT / "flows").glob("*.flow-meta.xml"))

# What the runtime reports for the corpus: element kind and API name of everything it won't run.
EXPECTED_UNSUPPORTED = {
    "coral-cloud__PersonalizedSchedule": ["actionCalls:Generate_Personalized_Schedule",
                                          "screens:Display_Result"],
    "coral-cloud__Route_to_Agent": ["actionCalls:Route_to_Agent"],
    "coral-cloud__Route_to_Queue": ["actionCalls:Route_to_Queue"],
    "coral-cloud__Send_Verification_Code": ["actionCalls:EmailVerificationCode",
                                            "actionCalls:GenerateVerificationCode"],
}


@pytest.mark.corpus
@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.name)
def test_flow_loads(path):
    name = path.name[: -len(".flow-meta.xml")]
    flow = model.load(path.read_bytes(), name)
    assert (flow.start or flow.async_start) in flow.elements  # an async-only record trigger
    if name in EXPECTED_UNSUPPORTED:
        assert flow.unsupported == EXPECTED_UNSUPPORTED[name]
    elif name.startswith("PMM__"):
        assert flow.unsupported[0].startswith("processType:Workflow")
    elif name.startswith("dreamhouse-lwc__"):
        assert "actionCalls:geocode_address" in flow.unsupported
        assert sum(u.startswith("screens:") for u in flow.unsupported) == 10
    else:
        assert flow.unsupported == [], name


@pytest.mark.corpus
@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.name)
def test_flow_passes_the_deploy_checks_of_formulas_and_limits(path):
    """Real flows Salesforce deployed: the local deploy's formula and limit checks accept them."""
    assert flow_checks.problems(etree.fromstring(path.read_bytes())) == []
