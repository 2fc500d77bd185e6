"""Make the project's ``tasks`` package importable in tests.

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
