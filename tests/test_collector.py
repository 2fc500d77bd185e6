"""The garbage collector is paused while a transaction runs and restored after it."""

import gc
import threading

import pytest

from localorg.backend import Org, collector


@pytest.fixture
def enabled():
    was = gc.isenabled()
    gc.enable()
    yield
    gc.enable() if was else gc.disable()


def test_a_transaction_pauses_the_collector_and_restores_it(enabled):
    org = Org(":memory:")
    with org.transaction() as txn:
        assert not gc.isenabled()
        txn.insert("Account", [{"Name": "Acme"}])
    assert gc.isenabled()
    with pytest.raises(ValueError), org.transaction():
        assert not gc.isenabled()
        raise ValueError("undone")
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled(enabled):
    gc.disable()
    with Org(":memory:").transaction():
        pass
    assert not gc.isenabled()


def test_the_collector_comes_back_when_the_last_of_two_overlapping_transactions_ends(enabled):
    inside, release = threading.Event(), threading.Event()

    def other():
        with collector.paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(5)
    with Org(":memory:").transaction():
        pass
    assert not gc.isenabled()  # the other thread's transaction is still open
    release.set()
    thread.join(5)
    assert gc.isenabled()
