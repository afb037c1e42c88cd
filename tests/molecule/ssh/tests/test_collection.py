# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as another repository uses it: built (make collection), installed into an
empty directory with ansible-galaxy, and run by fully qualified names only, with that
repository's own ansible.cfg (no library/, module_utils/ or roles_path of ours), over SSH with
become against a lab host of this scenario. Its reports land in ./reports of that repository."""
from __future__ import annotations

import json
import os
import subprocess

import lab_run
import pytest
from lab_run import ROOT

pytestmark = pytest.mark.skipif(not os.environ.get("MOLECULE_INVENTORY_FILE"), reason="run by Molecule")
HOST = "ssh-journal"  # NOPASSWD sudo: no vault needed here
CONSUMER_PLAY = """---
- name: A consumer repository's play
  hosts: {host}
  gather_facts: false
  tasks:
    - name: Read-only use of the collection's postconf module (check mode, nothing changes)
      postfix_remedy.toolkit.postconf:
        parameters:
          soft_bounce: "no"
      check_mode: true
      register: consumer_postconf

    - name: The collection's diagnosis role, with its own scan state (the other tests' first runs stay full scans)
      ansible.builtin.include_role:
        name: postfix_remedy.toolkit.postfix_diagnose
      vars:
        postfix_diagnose_state_file: /var/tmp/consumer-logscan.json

    - name: What the module saw
      ansible.builtin.copy:
        dest: "{{{{ playbook_dir }}}}/postconf.json"
        content: "{{{{ consumer_postconf | to_json }}}}"
        mode: "0600"
      delegate_to: localhost
      become: false
"""


def main_cf():
    return lab_run.sh(HOST, "sha256sum /etc/postfix/main.cf /etc/postfix/master.cf").stdout


@pytest.fixture(scope="module")
def consumer(tmp_path_factory):
    build = subprocess.run(["make", "-C", str(ROOT), "collection"], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    tarballs = sorted((ROOT / "dist").glob("postfix_remedy-toolkit-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    repo = tmp_path_factory.mktemp("consumer-repo")
    (repo / "ansible.cfg").write_text("[defaults]\ncollections_path = ./collections\ngathering = explicit\n"
                                      "interpreter_python = auto_silent\n")
    (repo / "playbooks").mkdir()
    (repo / "playbooks" / "site.yml").write_text(CONSUMER_PLAY.format(host=HOST))
    # Only what a user's shell has: none of this repository's ANSIBLE_* settings (Molecule's
    # ANSIBLE_LIBRARY / ANSIBLE_MODULE_UTILS / ANSIBLE_ROLES_PATH would hide a broken collection).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "MOLECULE_"))}
    # run from the repository's root, as from a shell there (PWD is what a shell exports)
    env.update(ANSIBLE_CONFIG=str(repo / "ansible.cfg"), ANSIBLE_NOCOLOR="1", LAB_HOSTS=HOST, PWD=str(repo),
               CONTAINERS_CONF=str(ROOT / "lab" / "containers.conf"))
    inst = subprocess.run(["ansible-galaxy", "collection", "install", "-p", str(repo / "collections"), str(tarballs[0])],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert inst.returncode == 0, inst.stdout + inst.stderr
    before = main_cf()
    run = subprocess.run(["ansible-playbook", "-i", str(ROOT / "inventories" / "lab"), "-e", "lab_connection=ssh",
                          "playbooks/site.yml"], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert main_cf() == before  # the postconf task ran in check mode
    return repo, run


def test_the_installed_collection_is_all_the_consumer_has(consumer):
    repo, _run = consumer
    installed = repo / "collections" / "ansible_collections" / "postfix_remedy" / "toolkit"
    assert (installed / "plugins" / "modules" / "postfix_diagnose.py").is_file()
    assert (installed / "plugins" / "module_utils" / "fault_catalog.py").is_file()
    assert not (installed / "library").exists() and not (installed / "roles" / "lab_faults").exists()
    assert (installed / "meta" / "runtime.yml").is_file() and (installed / "LICENSE").is_file()


def test_the_consumer_playbook_runs_by_fully_qualified_names(consumer):
    repo, run = consumer
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    recap = {m.group(1): int(m.group(5)) for m in lab_run.RECAP.finditer(run.stdout)}
    assert recap.get(HOST) == 0, run.stdout[-3000:]  # no failed task
    seen = json.loads((repo / "playbooks" / "postconf.json").read_text())
    # check mode: the change is reported (soft_bounce is not explicit in main.cf), the files stay
    assert not seen.get("failed") and any("soft_bounce" in c for c in seen["changes"]), seen


def test_the_reports_land_in_the_consumer_repository(consumer):
    repo, _run = consumer
    report = json.loads((repo / "reports" / (HOST + ".json")).read_text())
    assert report["host"] == HOST and report["log"]["source"] == "journal"
    assert oct((repo / "reports").stat().st_mode & 0o777) == "0o700"
    assert not (repo / "playbooks" / "reports").exists()  # the working directory, not the playbook's
