"""A small run of bench/load.py: concurrent REST clients, nothing lost, data kept on restart.

The full benchmark (2,000 bookings, 8 clients) is `python bench/load.py`; timings live there.
"""

import pytest

from bench.load import insert_concurrently, load, make_bookings, verify
from localorg.demo import DemoFailure, connect
from tests.fixtures.flows_org import running_copy

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def org(flows_org_home, tmp_path_factory):
    """A copy of the flows org (own LOCALORG_HOME), CreateEventTemplate active: {"env": cci env}.

    A restart gives the org a new port and token, so tests that restart it store the new env."""
    with running_copy(flows_org_home, tmp_path_factory.mktemp("localorg")) as env:
        yield {"env": env}


def test_concurrent_bookings_are_exact_and_survive_a_restart(org):
    figures = load(org["env"], bookings=120, guests=5, clients=4, batch=25, restart=True)
    org["env"] = figures["env"]
    # 120 Events, each with its Who relation and 5 guests, read back before and after restart.
    assert (figures["bookings"], figures["participants"]) == (120, 120 * 6)


def test_verify_catches_a_lost_or_wrong_participant(org):
    sf = connect(org["env"])
    people = [f"nobody-{i}@load.test" for i in range(6)]  # no Contacts: guests match nothing
    records, expected = make_bookings("neg", 2, 5, people)
    insert_concurrently(org["env"], records, clients=2, batch=1)
    with pytest.raises(DemoFailure, match="missing participant"):
        verify(sf, expected, "negative case")


def test_batch_larger_than_collections_limit_is_refused(org):
    with pytest.raises(ValueError, match="between 1 and 200"):
        insert_concurrently(org["env"], [], clients=1, batch=201)
