"""Make the project's ``tasks`` package importable in tests; skip corpus tests without it.
(The session's own HOME: `own_cci_keychain` in tests/conftest.py.)

CumulusCI replaces ``sys.modules["tasks"]`` with a synthetic package whose
``__path__`` starts empty and is filled with the project's ``tasks/`` folder only
when a project config loads. Tests import ``tasks.*`` directly, so add it here.
"""

import sys
from pathlib import Path

import cumulusci.core.config.project_config  # noqa: F401  (installs the synthetic package)

ROOT = Path(__file__).resolve().parent
_tasks_dir = str(ROOT / "tasks")
if _tasks_dir not in sys.modules["tasks"].__path__:
    sys.modules["tasks"].__path__.append(_tasks_dir)

# Real-world flows other teams published, kept beside the checkout (not in the repository).
CORPUS = ROOT.parent / "shared" / "corpus" / "flows"


def pytest_configure(config):
    config.addinivalue_line("markers", "corpus: needs ../shared/corpus/flows beside the checkout")


def pytest_collection_modifyitems(config, items):
    if CORPUS.is_dir():
        return
    import pytest

    skip = pytest.mark.skip(reason="corpus test skipped: ../shared/corpus/flows is not beside "
                                   "this checkout (the corpus is not in the repository)")
    for item in items:
        if "corpus" in item.keywords:
            item.add_marker(skip)
