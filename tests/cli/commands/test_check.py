"""``calico-ipam check`` and ``render`` end to end, as a user runs them."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from paths import DATA, ROOT
from sarif_schema import validate_sarif

from ipam_model.cli import main

REPO = ROOT
GOLDEN = DATA / "golden"


@pytest.fixture
def in_repo(monkeypatch):
    """Run from the repository root, where ``stacks/`` is the default."""
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("NO_COLOR", raising=False)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_stack(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(text)
    return path


GOOD = """\
config:
  calico-ipam:pools:
    a-pool: {cidr: 10.10.0.0/24, blockSize: 26}
  calico-ipam:namespaces:
    web: {ipv4Pools: [a-pool]}
"""

OVERLAPPING = """\
config:
  calico-ipam:pools:
    a-pool: {cidr: 10.10.0.0/24, blockSize: 26}
    b-pool: {cidr: 10.10.0.128/25, blockSize: 26}
"""


def test_check_of_the_bundled_stacks_passes_with_the_public_space_warning(in_repo, capsys):
    code, out, err = run(capsys, "check")
    assert code == 0, out + err
    assert err == ""
    warning = [line for line in out.splitlines() if "CIP301" in line]
    assert len(warning) == 1
    assert re.match(r"stacks/Pulumi\.dev\.yaml:\d+: warning CIP301 public-address-space: .*"
                    r"192\.169\.0\.0/24", warning[0])
    assert "\x1b[" not in out  # captured output is not a terminal
    summaries = [line for line in out.splitlines() if re.match(r"^\w+: \d+ error", line)]
    assert [s.split(":")[0] for s in summaries] == ["dev", "prod", "staging", "total"]
    assert summaries[-1].startswith("total: 0 errors, ")


@pytest.mark.parametrize("api, golden", [(None, "render-dev-v3.yaml"),
                                         ("crd.projectcalico.org/v1", "render-dev-crd-v1.yaml")])
def test_render_dev_prints_the_two_pools_and_two_namespace_patches(in_repo, capsys, api, golden):
    argv = ["render", "--stack", "dev"] + (["--api-version", api] if api else [])
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    assert out == (GOLDEN / golden).read_text()
    docs = list(yaml.safe_load_all(out))
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("IPPool", "external-pool"), ("IPPool", "internal-pool"),
        ("Namespace", "external-ns"), ("Namespace", "internal-ns")]


def test_render_only_pools_is_what_calicoctl_accepts(in_repo, capsys):
    code, out, _ = run(capsys, "render", "--stack", "dev", "--only", "pools")
    assert code == 0
    assert [d["kind"] for d in yaml.safe_load_all(out)] == ["IPPool", "IPPool"]


def test_check_exits_1_on_an_error_finding_and_json_says_why(tmp_path, capsys):
    write_stack(tmp_path, "lab", OVERLAPPING)
    code, out, _ = run(capsys, "check", "--stacks", str(tmp_path), "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["summary"]["errors"] >= 1
    overlap = [f for f in report["findings"] if f["rule"] == "CIP201"]
    assert overlap and overlap[0]["severity"] == "error"
    assert overlap[0]["location"]["file"].endswith("Pulumi.lab.yaml")


def test_render_refuses_a_stack_with_errors_and_prints_them_to_stderr(tmp_path, capsys):
    write_stack(tmp_path, "lab", OVERLAPPING)
    code, out, err = run(capsys, "render", "--stacks", str(tmp_path), "--stack", "lab")
    assert code == 1
    assert out == ""  # nothing to pipe into kubectl
    assert "error CIP201 pool-overlap" in err
    assert "refusing to render stack lab" in err


def test_render_of_a_clean_stack_from_another_directory(tmp_path, capsys):
    write_stack(tmp_path, "lab", GOOD)
    code, out, _ = run(capsys, "render", "--stacks", str(tmp_path), "--stack", "lab")
    assert code == 0
    docs = list(yaml.safe_load_all(out))
    assert docs[0]["metadata"]["labels"]["calico-ipam.io/stack"] == "lab"
    assert docs[1]["metadata"]["annotations"] == {"cni.projectcalico.org/ipv4pools": '["a-pool"]'}


MALFORMED = {
    "wrong type": ("config:\n  calico-ipam:pools:\n    a-pool:\n      cidr: 10.0.0.0/24\n"
                   "      blockSize: \"29\"\n", 5, "blockSize"),
    "unknown key": ("config:\n  calico-ipam:pools:\n    a-pool:\n      cidr: 10.0.0.0/24\n"
                    "      blocksize: 29\n", 5, "blocksize"),
    "duplicate key": ("config:\n  calico-ipam:pools:\n    a-pool: {cidr: 10.0.0.0/24}\n"
                      "    a-pool: {cidr: 10.1.0.0/24}\n", 4, "a-pool"),
    "not yaml": ("config:\n  calico-ipam:pools:\n    a-pool: {cidr: [10.0.0.0/24\n", 4, None),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_stack_exits_2_with_one_line_naming_file_line_and_path(tmp_path, capsys, case):
    text, line, key = MALFORMED[case]
    path = write_stack(tmp_path, "bad", text)
    code, out, err = run(capsys, "check", "--stacks", str(tmp_path))
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert err.startswith("calico-ipam check: error: ")
    assert f"Pulumi.bad.yaml:{line}" in err
    if key:
        assert f"config.calico-ipam:pools.a-pool" in err and key in err
    assert str(path.name) in err


def test_malformed_stack_in_github_format_is_also_an_error_annotation(tmp_path, capsys):
    write_stack(tmp_path, "bad", MALFORMED["unknown key"][0])
    code, out, err = run(capsys, "check", "--stacks", str(tmp_path), "--format", "github")
    assert code == 2
    assert re.fullmatch(r"::error file=[^,]*Pulumi\.bad\.yaml,line=5,col=\d+,"
                        r"title=CIP002 stack-schema::config\.calico-ipam:pools\.a-pool"
                        r"\.blocksize: .*blockSize.*\n", out)
    assert err.count("\n") == 1


def test_check_one_stack_still_sees_routing_domain_overlap_with_its_siblings(tmp_path, capsys):
    domain = "  calico-ipam:cluster: {routingDomain: dc1}\n"
    write_stack(tmp_path, "one", "config:\n" + domain +
                "  calico-ipam:pools:\n    p1: {cidr: 10.20.0.0/24, blockSize: 26}\n")
    write_stack(tmp_path, "two", "config:\n" + domain +
                "  calico-ipam:pools:\n    p2: {cidr: 10.20.0.0/25, blockSize: 26}\n")
    code, out, _ = run(capsys, "check", "--stacks", str(tmp_path), "--stack", "one")
    assert code == 1
    assert "CIP202" in out and "two" not in out.splitlines()[-1]


def test_output_file_gets_the_report_and_stdout_stays_empty(tmp_path, capsys):
    stacks = tmp_path / "stacks"
    write_stack(stacks, "lab", GOOD)
    target = tmp_path / "results.sarif"
    code, out, _ = run(capsys, "check", "--stacks", str(stacks), "--format", "sarif",
                       "--output", str(target))
    assert (code, out) == (0, "")
    log = json.loads(target.read_text())
    validate_sarif(log)  # what GitHub's upload-sarif receives
    assert log["version"] == "2.1.0"
    assert sorted(tmp_path.iterdir()) == sorted([stacks, target])  # no temporary file left


def test_unwritable_output_is_one_line_exit_2(tmp_path, capsys):
    write_stack(tmp_path, "lab", GOOD)
    code, out, err = run(capsys, "check", "--stacks", str(tmp_path), "--output",
                         str(tmp_path / "missing-dir" / "report.txt"))
    assert code == 2 and out == ""
    assert err.startswith("calico-ipam check: error: cannot write ") and err.count("\n") == 1


def test_colour_on_a_terminal_unless_no_color(tmp_path, capsys, monkeypatch):
    write_stack(tmp_path, "lab", OVERLAPPING)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    _, coloured, _ = run(capsys, "check", "--stacks", str(tmp_path))
    assert "\x1b[1;31merror\x1b[0m" in coloured
    monkeypatch.setenv("NO_COLOR", "1")
    _, plain, _ = run(capsys, "check", "--stacks", str(tmp_path))
    assert "\x1b[" not in plain


def test_unknown_stack_is_a_usage_error(in_repo, capsys):
    code, out, err = run(capsys, "check", "--stack", "prdo")
    assert code == 2 and out == ""
    assert "no stack 'prdo'" in err and "prod" in err


def test_naming_a_stack_twice_checks_it_once(tmp_path, capsys):
    write_stack(tmp_path, "lab", OVERLAPPING)
    _, once, _ = run(capsys, "check", "--stacks", str(tmp_path), "--stack", "lab")
    _, twice, _ = run(capsys, "check", "--stacks", str(tmp_path), "--stack", "lab",
                      "--stack", "lab")
    assert twice == once


@pytest.mark.parametrize("command", [["check"], ["render"], ["plan", "--snapshot", "SNAP"]])
def test_sibling_that_does_not_load_is_named_not_silently_skipped(tmp_path, capsys, command):
    # prod's pools are checked against staging's for routing-domain overlaps
    # (CIP202); a staging file with a typo must not make that a silent pass.
    stacks = tmp_path / "stacks"
    for name in ("dev", "prod"):
        write_stack(stacks, name, (REPO / "stacks" / f"Pulumi.{name}.yaml").read_text())
    write_stack(stacks, "staging", "config:\n  calico-ipam:pools:\n"
                "    s: {cidr: 10.128.0.0/24, blocksize: 26}\n")
    snap = tmp_path / "snap.json"
    snap.write_text('{"kind": "List", "items": []}')
    argv = [str(snap) if a == "SNAP" else a for a in command]
    code, out, err = run(capsys, *argv, "--stacks", str(stacks), "--stack", "prod")
    assert "Traceback" not in err
    assert "Pulumi.staging.yaml:3" in err and "blocksize" in err
    assert "routing-domain overlaps with stack staging were not checked" in err
    assert "dev" not in err  # a sibling that loads is not mentioned


def test_every_unreadable_stack_file_is_reported_in_one_run_and_nothing_else(tmp_path, capsys):
    """A CI run shows all broken stack files at once, and its SARIF/markdown step still
    gets a report (of those errors only, never a partial check passed off as complete)."""
    (tmp_path / "Pulumi.good.yaml").write_text(
        "config:\n  calico-ipam:pools:\n    a: {cidr: 192.169.0.0/24}\n")
    (tmp_path / "Pulumi.typo.yaml").write_text(
        "config:\n  calico-ipam:pools:\n    a: {cidr: 10.0.0.0/24, blocksize: 26}\n")
    (tmp_path / "Pulumi.dup.yaml").write_text(
        "config:\n  calico-ipam:pools:\n    a: {cidr: 10.1.0.0/24}\n    a: {cidr: 10.2.0.0/24}\n")
    sarif = tmp_path / "out.sarif"
    code, out, err = run(capsys, "check", "--stacks", str(tmp_path), "--format", "sarif",
                         "--output", str(sarif))
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 2 and "Traceback" not in err
    assert "Pulumi.dup.yaml:4:5" in lines[0] and 'duplicate key "a"' in lines[0]
    assert "Pulumi.typo.yaml:3:" in lines[1] and 'did you mean "blockSize"' in lines[1]
    log = json.loads(sarif.read_text())
    validate_sarif(log)
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["CIP003", "CIP002"]
    assert not any("192.169.0.0/24" in r["message"]["text"] for r in results)
