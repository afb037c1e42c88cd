# Copyright: (c) 2026, postfix-remedy maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 33: the metrics files node_exporter's textfile collector reads.

module_utils/prom_textfile.py renders and writes them (the diagnosis and the remediation), the
change window helper carries its own small writer; both are read here by Prometheus' own text
parser (prometheus_client), and the write path is tried against what a host can throw at it: no
directory, a symlink or a foreign file at the name, a read-only file system, a full disk.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
from ansible.module_utils import prom_textfile as pt
from ansible.module_utils.remedy_metrics import METRICS
from conftest import ROOT, needs_root
from prometheus_client.parser import text_string_to_metric_families

HELPER = ROOT / "roles" / "postfix_change_window" / "files" / "postfix-remedy-window.py"


def families(data):
    """{name: family} as Prometheus' parser reads the text (it raises on anything malformed)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return {f.name: f for f in text_string_to_metric_families(text)}


def sample_map(data):
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families(data).values() for s in f.samples}


# ------------------------------------------------------------------ rendering

def test_render_is_sorted_typed_and_read_back_by_prometheus_parser():
    samples = [("postfix_remedy_queue_messages", dict(config_dir="/etc/postfix", queue="deferred"), 12),
               ("postfix_remedy_queue_messages", dict(config_dir="/etc/postfix", queue="active"), 0),
               ("postfix_remedy_remediation_fixes_total", dict(config_dir="/etc/postfix", id="relay.open_relay"), 2),
               ("postfix_remedy_log_unclassified_ratio", dict(config_dir="/etc/postfix"), 0.0125)]
    data, warnings = pt.render(samples, "test")
    assert warnings == []
    text = data.decode()
    assert text.startswith("# postfix-remedy metrics (test)")
    names = [ln.split()[2] for ln in text.splitlines() if ln.startswith("# TYPE ")]
    assert names == sorted(names)
    assert text.index('queue="active"') < text.index('queue="deferred"')  # series sorted too
    fams = families(data)
    assert fams["postfix_remedy_remediation_fixes"].type == "counter"  # the parser strips _total
    assert fams["postfix_remedy_queue_messages"].type == "gauge"
    got = sample_map(data)
    assert got[("postfix_remedy_queue_messages", (("config_dir", "/etc/postfix"), ("queue", "deferred")))] == 12
    assert got[("postfix_remedy_log_unclassified_ratio", (("config_dir", "/etc/postfix"),))] == 0.0125
    assert pt.parse(data) == {(n, lbl): v for (n, lbl), v in got.items()}


@pytest.mark.parametrize("value,shown,warned", [
    ('mx"1\\lab\nx', 'mx"1\\lab\nx', "escaped"),                # kept exactly, escaped on output
    ("mx1\rlab\x00x\x85", "mx1\ufffdlab\ufffdx\ufffd", "control"),  # CR, NUL, NEL: replaced
    ("caf\udce9.lab.test", "caf\ufffd.lab.test", "UTF-8"),      # an undecodable byte (surrogateescape)
    (b"caf\xe9.lab.test", "caf\ufffd.lab.test", "UTF-8"),
    ("m" * 300, "m" * 256, "cut"),
    ("mx1.lab.test", "mx1.lab.test", None),
])
def test_odd_label_values_are_written_faithfully_or_cleaned_with_a_warning(value, shown, warned):
    data, warnings = pt.render([("postfix_remedy_diagnosis_info",
                                 dict(config_dir="/etc/postfix", myhostname=value, mail_version="3.7.11"), 1)], "test")
    got = families(data)["postfix_remedy_diagnosis_info"].samples[0].labels["myhostname"]
    assert got == shown
    assert pt.parse(data)[("postfix_remedy_diagnosis_info", (("config_dir", "/etc/postfix"), ("mail_version", "3.7.11"),
                                                              ("myhostname", shown)))] == 1
    if warned:
        assert len(warnings) == 1 and warned in warnings[0] and "myhostname" in warnings[0], warnings
    else:
        assert warnings == []


def test_special_values_and_a_value_that_is_no_number():
    data, warnings = pt.render([("postfix_remedy_log_unclassified_ratio", dict(config_dir="/a"), float("nan")),
                                ("postfix_remedy_log_unclassified_ratio", dict(config_dir="/b"), float("inf")),
                                ("postfix_remedy_log_lines", dict(config_dir="/a"), "many")], "test")
    assert 'config_dir="/b"} +Inf' in data.decode() and 'config_dir="/a"} NaN' in data.decode()
    assert "postfix_remedy_log_lines" not in data.decode()
    assert warnings and "not a number" in warnings[0]
    families(data)


def test_unknown_names_and_wrong_labels_are_programming_errors():
    with pytest.raises(KeyError):
        pt.render([("postfix_remedy_nonsense", {}, 1)], "test")
    with pytest.raises(ValueError):
        pt.render([("postfix_remedy_queue_messages", dict(config_dir="/etc/postfix"), 1)], "test")


def test_metric_names_follow_prometheus_conventions():
    for name, (kind, help_text, labels) in METRICS.items():
        assert pt.NAME_RE.match(name) and name.startswith("postfix_remedy_"), name
        assert name.endswith("_total") == (kind == "counter"), name
        assert kind in ("gauge", "counter") and help_text.strip() and "\n" not in help_text, name
        assert "config_dir" in labels and all(pt.LABEL_RE.match(label) for label in labels), name
        assert not {"address", "sender", "recipient", "queue_id", "client", "ip"} & set(labels), name  # cardinality
        if {"timestamp", "duration", "age"} & set(name.split("_")):  # times in seconds, the base unit
            assert name.endswith("_seconds"), name


# ------------------------------------------------------------------ writing

def test_write_is_atomic_ours_and_readable_by_node_exporter(tmp_path):
    data, _ = pt.render([("postfix_remedy_log_lines", dict(config_dir="/etc/postfix"), 3)], "test")
    path = str(tmp_path / "postfix_remedy_diagnose.prom")
    assert pt.write(path, data) is None
    assert (tmp_path / "postfix_remedy_diagnose.prom").read_bytes() == data
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"  # node_exporter runs as its own user
    assert sorted(os.listdir(tmp_path)) == ["postfix_remedy_diagnose.prom"]  # no temporary file left
    assert pt.read_own(path)[("postfix_remedy_log_lines", (("config_dir", "/etc/postfix"),))] == 3
    assert pt.write(path, data) is None  # our own file is replaced


def test_missing_directory_is_a_warning_and_not_created(tmp_path):
    path = str(tmp_path / "no" / "such" / "x.prom")
    warning = pt.write(path, b"# postfix-remedy metrics\n")
    assert "does not exist" in warning and str(tmp_path / "no" / "such") in warning
    assert not (tmp_path / "no").exists()


def test_foreign_file_and_symlinks_are_refused_and_left_alone(tmp_path):
    foreign = tmp_path / "postfix_remedy_diagnose.prom"
    foreign.write_bytes(b"node_something 1\n")  # another exporter's file at our name
    warning = pt.write(str(foreign), b"# postfix-remedy metrics (x)\n")
    assert "not a postfix-remedy" in warning and foreign.read_bytes() == b"node_something 1\n"
    assert pt.read_own(str(foreign)) == {}
    target = tmp_path / "passwd"
    target.write_bytes(b"root:x:0:0\n")
    link = tmp_path / "link.prom"
    link.symlink_to(target)
    assert "symlink" in pt.write(str(link), b"# postfix-remedy metrics (x)\n")
    assert target.read_bytes() == b"root:x:0:0\n" and link.is_symlink()
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "dirlink").symlink_to(real)
    assert "not a directory" in pt.write(str(tmp_path / "dirlink" / "x.prom"), b"# postfix-remedy metrics\n")
    assert list(real.iterdir()) == []


def _mount_tmpfs(where, *opts):
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(opts), "tmpfs", str(where)],
                      capture_output=True, check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")


@needs_root
def test_read_only_directory_is_a_warning(tmp_path):
    ro = tmp_path / "ro"
    _mount_tmpfs(ro, "size=64k", "ro")
    try:
        warning = pt.write(str(ro / "postfix_remedy_diagnose.prom"), b"# postfix-remedy metrics\n")
        assert warning and "Read-only file system" in warning, warning
    finally:
        subprocess.run(["umount", str(ro)], check=False)


@needs_root
def test_full_disk_is_a_warning_and_leaves_the_old_file_whole(tmp_path):
    small = tmp_path / "small"
    _mount_tmpfs(small, "size=8k")
    try:
        path = small / "postfix_remedy_diagnose.prom"
        old, _ = pt.render([("postfix_remedy_log_lines", dict(config_dir="/etc/postfix"), 1)], "test")
        assert pt.write(str(path), old) is None
        with open(small / "filler", "wb") as fh:  # fill the rest
            try:
                fh.write(b"x" * 65536)
            except OSError:
                pass
        new = old + b"# " + b"y" * 20000 + b"\n"
        warning = pt.write(str(path), new)
        assert warning and "No space left on device" in warning, warning
        assert path.read_bytes() == old  # node_exporter still reads the complete previous file
        assert sorted(p.name for p in small.iterdir()) == ["filler", "postfix_remedy_diagnose.prom"]
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_another_instance_has_its_own_file():
    default = pt.file_path("/var/lib/prometheus/node-exporter", "postfix_remedy_diagnose", None)
    assert default == pt.file_path("/var/lib/prometheus/node-exporter", "postfix_remedy_diagnose", "/etc/postfix/")
    other = pt.file_path("/var/lib/prometheus/node-exporter", "postfix_remedy_diagnose", "/etc/postfix-out")
    assert default.endswith("/postfix_remedy_diagnose.prom") and other != default and other.endswith(".prom")
    assert os.path.dirname(other) == "/var/lib/prometheus/node-exporter"


# ------------------------------------------------------------------ the window helper's own writer

def _helper():
    spec = importlib.util.spec_from_file_location("pfr_window_helper", HELPER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_window_helper_says_what_remedy_metrics_says():
    helper = _helper()
    window = {n: v for n, v in METRICS.items() if n.startswith("postfix_remedy_change_window_")}
    assert set(helper.WINDOW_METRICS) == set(window)
    for name, help_text in helper.WINDOW_METRICS.items():
        assert (window[name][0], window[name][1], window[name][2]) == ("gauge", help_text, ("config_dir",)), name
    assert helper.PROM_HEADER.encode() == pt.HEADER


@pytest.mark.parametrize("config_dir", [None, '/etc/post"fix\\odd\nname\r', "/etc/postfix-out"])
def test_helper_and_prom_textfile_write_the_same_text(tmp_path, monkeypatch, config_dir):
    """The helper's file for an open window is the file prom_textfile renders for the same values,
    byte for byte, odd instance names included; Prometheus' parser reads it."""
    helper = _helper()
    monkeypatch.setattr(helper, "MARKER", str(tmp_path / "cw.json"))
    marker = dict(id="abc123", opened_at="2026-12-06T03:00:00Z", deadline=1796526000.5, config_dir=config_dir,
                  close_failed=dict(attempts=2, at=1796526100, by="deadline"))
    assert helper.write_metrics(str(tmp_path), config_dir, marker) is None
    path = helper.instance_marker(str(tmp_path / "postfix_remedy_window.prom"), config_dir)
    assert path == pt.file_path(str(tmp_path), "postfix_remedy_window", config_dir)
    data = open(path, "rb").read()
    label = os.path.normpath(config_dir) if config_dir else "/etc/postfix"
    inst = dict(config_dir=label)
    expected, _warnings = pt.render([
        ("postfix_remedy_change_window_open", inst, 1),
        ("postfix_remedy_change_window_deadline_timestamp_seconds", inst, 1796526000.5),
        ("postfix_remedy_change_window_close_failures", inst, 2),
        ("postfix_remedy_change_window_opened_timestamp_seconds", inst, 1796526000)], "postfix-remedy-window")
    assert data == expected
    fams = families(data)
    assert fams["postfix_remedy_change_window_open"].samples[0].value == 1
    assert oct(os.stat(path).st_mode & 0o777) == "0o644"


def test_helper_writes_a_closed_window_with_its_last_close(tmp_path, monkeypatch):
    helper = _helper()
    monkeypatch.setattr(helper, "MARKER", str(tmp_path / "cw.json"))
    (tmp_path / "cw-closed.json").write_text('{"result": "closed", "closed_at": "2026-12-06T05:00:00Z"}\n')
    assert helper.write_metrics(str(tmp_path), None, None) is None
    got = sample_map((tmp_path / "postfix_remedy_window.prom").read_bytes())
    inst = (("config_dir", "/etc/postfix"),)
    assert got == {("postfix_remedy_change_window_open", inst): 0,
                   ("postfix_remedy_change_window_last_close_timestamp_seconds", inst): 1796533200}


def test_helper_warns_instead_of_failing(tmp_path, monkeypatch):
    helper = _helper()
    monkeypatch.setattr(helper, "MARKER", str(tmp_path / "cw.json"))
    assert "does not exist" in helper.write_metrics(str(tmp_path / "nope"), None, None)
    assert "not an absolute path" in helper.write_metrics("relative/dir", None, None)
    (tmp_path / "postfix_remedy_window.prom").write_text("foreign 1\n")
    assert "not a postfix-remedy file" in helper.write_metrics(str(tmp_path), None, None)
    assert (tmp_path / "postfix_remedy_window.prom").read_text() == "foreign 1\n"
    assert helper.write_metrics(None, None, None) is None  # metrics off


def test_helper_runs_with_the_standard_library_only():
    """The helper is copied to hosts that have Python and nothing else."""
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", "import runpy; runpy.run_path(%r, run_name=\"__main__\")" % str(HELPER)],
                          capture_output=True, text=True, check=False)
    assert "usage:" in proc.stderr and proc.returncode == 2, proc.stderr
