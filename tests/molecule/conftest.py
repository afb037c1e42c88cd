# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""testinfra hosts for Molecule verifiers, through the fast podman:// backend.

Molecule's default would be ansible://, which falls back to one ansible call per command.
"""
from __future__ import annotations

import os
import sys

import pytest
import testinfra

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # lab_run.py, shared by the verifiers
from lab_run import scenario_hosts as inventory_hosts  # noqa: E402


@pytest.fixture(scope="session")
def lab_hosts():
    names = inventory_hosts()
    if not names:
        pytest.skip("not run by Molecule (no MOLECULE_INVENTORY_FILE)")
    return {name: testinfra.get_host("podman://" + name) for name in names}


def pytest_generate_tests(metafunc):
    if "host" in metafunc.fixturenames and "lab_host_name" in metafunc.fixturenames:
        metafunc.parametrize("lab_host_name", inventory_hosts() or ["none"])


@pytest.fixture
def host(lab_hosts, lab_host_name):
    return lab_hosts[lab_host_name]
