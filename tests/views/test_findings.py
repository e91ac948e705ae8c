"""views.findings: every format as its consumer (terminal, script, GitHub, code scanning) reads it."""
from __future__ import annotations

import hashlib
import importlib
import json
import pkgutil
import re
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sarif_schema import (
    SARIF_SCHEMA_FILE,
    SARIF_SCHEMA_SHA256,
    sarif_validator,
    validate_sarif,
)

import ipam_model.views.findings as findings_views
from ipam_model.catalogue import RULES, rule
from ipam_model.cli import main
from ipam_model.core import project
from ipam_model.core.errors import InputError
from ipam_model.core.model import Location, Severity
from ipam_model.declared.files import load_stack
from ipam_model.rules.forecast import forecast
from ipam_model.rules.runner import check_stacks
from ipam_model.views.escape import MARKDOWN_BUDGET_BYTES, github_data, github_property
from ipam_model.views.findings import FORMATS, format_findings, format_input_error
from ipam_model.views.utilisation import forecast_rows

DEV = "stacks/Pulumi.dev.yaml"
PROD = "stacks/Pulumi.prod.yaml"
ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "json-report.md"


def loc(file=DEV, line=27, column=13, *path):
    return Location(file, ("config", "calico-ipam:pools", *path), line, column)


def public_space():
    return rule("CIP301").finding("pool internal-pool: 192.169.0.0/24 is public address space",
                                  "pool/internal-pool", loc(DEV, 27, 13, "internal-pool", "cidr"),
                                  stack="dev")


def capacity(line=20):
    return rule("CIP501").finding("pool external-pool: 64 addresses in 8 blocks of /29",
                                  "pool/external-pool", loc(DEV, line, 5, "external-pool"),
                                  stack="dev")


def overlap():
    return rule("CIP201").finding("pools a (10.0.0.0/24) and b (10.0.0.128/25) overlap",
                                  "pool/b", loc(PROD, 40, 7, "b", "cidr"), stack="prod",
                                  related=(loc(PROD, 35, 7, "a", "cidr"),))


def sample():
    return [capacity(), public_space(), overlap()]


def many(severity_rule: str, count: int, stack="dev"):
    return [rule(severity_rule).finding(f"finding {i}", f"pool/p{i}", loc(DEV, i + 1, 1, f"p{i}"),
                                        stack=stack) for i in range(count)]


# -- text ---------------------------------------------------------------------

def test_text_is_one_line_per_finding_worst_first_per_stack_with_summaries():
    out = format_findings(sample(), "text", stacks=["dev", "prod", "staging"])
    assert out.splitlines() == [
        f"{DEV}:27: warning CIP301 public-address-space: pool internal-pool: "
        "192.169.0.0/24 is public address space",
        f"{DEV}:20: note CIP501 pool-capacity: pool external-pool: 64 addresses in 8 blocks of /29",
        "dev: 0 errors, 1 warning, 1 note",
        "",
        f"{PROD}:40: error CIP201 pool-overlap: pools a (10.0.0.0/24) and b (10.0.0.128/25) overlap",
        "prod: 1 error, 0 warnings, 0 notes",
        "staging: 0 errors, 0 warnings, 0 notes",
        "total: 1 error, 1 warning, 1 note",
    ]


def test_text_has_colour_only_when_asked():
    for color in (None, False):
        assert "\x1b[" not in format_findings(sample(), "text", color=color)
    coloured = format_findings(sample(), "text", color=True)
    assert "\x1b[1;31merror\x1b[0m" in coloured and "\x1b[33mwarning\x1b[0m" in coloured
    # colour decorates, never changes the words
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == format_findings(sample(), "text")


def test_text_keeps_one_line_even_for_multi_line_messages():
    finding = rule("CIP002").finding("line one\nline two", "stack/dev", loc(), stack="dev")
    assert format_findings([finding], "text").count("\n") == 2  # finding + summary


def test_text_for_a_clean_stack_is_just_its_summary():
    assert format_findings([], "text", stacks=["dev"]) == "dev: 0 errors, 0 warnings, 0 notes\n"


def test_text_without_line_shows_the_yaml_path():
    finding = rule("CIP402").finding("unknown pool x", "namespace/web",
                                     Location(DEV, ("config", "calico-ipam:namespaces", "web"),
                                              None, None), stack="dev")
    assert format_findings([finding], "text").startswith(
        f"{DEV}: config.calico-ipam:namespaces.web: error CIP402 binding-unknown-pool: ")


# -- json ---------------------------------------------------------------------

def documented_schema() -> dict:
    text = DOCS.read_text()
    block = re.search(r"```json-schema\n(.*?)```", text, re.S)
    assert block, "docs/json-report.md must hold the JSON Schema in a ```json-schema block"
    return json.loads(block.group(1))


def test_json_report_matches_the_documented_schema_and_counts():
    document = json.loads(format_findings(sample(), "json", stacks=["dev", "prod"]))
    jsonschema.Draft202012Validator(documented_schema()).validate(document)
    assert document["summary"] == {
        "errors": 1, "warnings": 1, "infos": 1,
        "stacks": [
            {"name": "dev", "file": DEV, "errors": 0, "warnings": 1, "infos": 1},
            {"name": "prod", "file": PROD, "errors": 1, "warnings": 0, "infos": 0}]}
    assert [f["rule"] for f in document["findings"]] == ["CIP201", "CIP301", "CIP501"]
    assert document["findings"][0]["related"][0]["line"] == 35
    assert document["findings"][1]["location"]["path"] == \
        "config.calico-ipam:pools.internal-pool.cidr"


def test_documented_example_is_valid_against_the_documented_schema():
    example = re.search(r"```json\n(.*?)```", DOCS.read_text(), re.S).group(1)
    jsonschema.Draft202012Validator(documented_schema()).validate(json.loads(example))


def test_json_of_an_input_error_is_a_valid_report():
    error = InputError("expected an integer", file=DEV, path=("config", "x"), line=3, column=2)
    document = json.loads(format_input_error(error, "json"))
    jsonschema.Draft202012Validator(documented_schema()).validate(document)
    assert document["summary"]["errors"] == 1


# -- markdown -----------------------------------------------------------------

def table_rows(markdown: str, header: str) -> list[list[str]]:
    lines = markdown.splitlines()
    start = lines.index(header)
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


FINDINGS_HEADER = "| Severity | Stack | Rule | Location | Message |"
STACKS_HEADER = "| Stack | File | Errors | Warnings | Notes |"


def test_markdown_has_a_stack_table_and_a_findings_table_worst_first():
    md = format_findings(sample(), "markdown", stacks=["dev", "prod"])
    assert md.startswith("## ❌ calico-ipam check: 1 error, 1 warning, 1 note")
    assert table_rows(md, STACKS_HEADER) == [["dev", f"`{DEV}`", "0", "1", "1"],
                                             ["prod", f"`{PROD}`", "1", "0", "0"]]
    rows = table_rows(md, FINDINGS_HEADER)
    assert [r[2] for r in rows] == ["CIP201 pool-overlap", "CIP301 public-address-space",
                                    "CIP501 pool-capacity"]
    assert rows[0][3] == f"`{PROD}:40`"


def test_markdown_escapes_pipes_and_newlines_so_a_row_stays_a_row():
    finding = rule("CIP402").finding("a | b\nc <script>", "namespace/x", loc(), stack="d|e")
    md = format_findings([finding], "markdown")
    rows = table_rows(md, FINDINGS_HEADER)
    assert len(rows) == 1 and len(rows[0]) == 5
    assert rows[0][1] == "d\\|e"
    assert rows[0][4] == "a \\| b<br>c &lt;script&gt;"


def test_markdown_for_no_findings_says_so():
    md = format_findings([], "markdown", stacks=["dev"])
    assert md.startswith("## ✅") and md.rstrip().endswith("No findings.")


def test_markdown_stays_under_githubs_step_summary_limit():
    long = "x" * 2000
    findings = [rule("CIP301").finding(f"{i} {long}", f"pool/p{i}", loc(DEV, i + 1), stack="dev")
                for i in range(800)]  # ~1.6 MB of messages
    md = format_findings(findings, "markdown")
    assert len(md.encode()) <= MARKDOWN_BUDGET_BYTES < 1024 * 1024
    shown = len(table_rows(md, FINDINGS_HEADER))
    assert 0 < shown < 800
    assert f"{800 - shown} more findings not shown" in md


# -- github -------------------------------------------------------------------

COMMAND = re.compile(r"^::(error|warning|notice) ([^:]*)::(.*)$")


def unescape(text: str) -> str:
    return (text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":")
            .replace("%2C", ",").replace("%25", "%"))


def parse_github(out: str) -> list[tuple[str, dict, str]]:
    parsed = []
    # The runner splits its output at \n and \r only (both escaped by us).
    assert out.endswith("\n")
    for line in out[:-1].split("\n"):
        match = COMMAND.match(line)
        assert match, f"not a workflow command: {line!r}"
        props = dict(p.split("=", 1) for p in match.group(2).split(",")) if match.group(2) else {}
        parsed.append((match.group(1), {k: unescape(v) for k, v in props.items()},
                       unescape(match.group(3))))
    return parsed


def test_github_annotations_point_at_file_line_and_column_worst_first():
    out = format_findings(sample(), "github")
    assert out.splitlines()[0] == (f"::error file={PROD},line=40,col=7,title=CIP201 pool-overlap"
                                   "::pools a (10.0.0.0/24) and b (10.0.0.128/25) overlap")
    assert [p[0] for p in parse_github(out)] == ["error", "warning", "notice"]


def test_github_escaping_follows_the_toolkit_rules():
    assert github_data("100% a\r\nb: c, d") == "100%25 a%0D%0Ab: c, d"
    assert github_property("a:b,c%d\n") == "a%3Ab%2Cc%25d%0A"
    finding = rule("CIP201").finding("50% of x\nnext line: a, b", "pool/x",
                                     Location("dir,with:odd/Pulumi.dev.yaml", (), 3, None),
                                     stack="dev")
    out = format_findings([finding], "github")
    assert out.count("\n") == 1  # a newline in a message never starts a second command
    [(level, props, message)] = parse_github(out)
    assert props == {"file": "dir,with:odd/Pulumi.dev.yaml", "line": "3",
                     "title": "CIP201 pool-overlap"}
    assert message == "50% of x\nnext line: a, b"


@settings(max_examples=200, deadline=None)
@given(message=st.text(max_size=40), file=st.text(min_size=1, max_size=20))
def test_github_escaping_round_trips_any_text(message, file):
    finding = rule("CIP301").finding(message, "pool/p", Location(file, (), 1, None), stack="s")
    [(_, props, back)] = parse_github(format_findings([finding], "github"))
    assert back == message and props["file"] == file


def test_github_caps_each_level_at_ten_and_says_how_many_were_left_out():
    findings = many("CIP201", 13) + many("CIP301", 4) + many("CIP501", 12)
    parsed = parse_github(format_findings(findings, "github"))
    levels = [p[0] for p in parsed]
    assert levels.count("error") == 10 and levels.count("warning") == 4
    # GitHub shows 10 notices per step: 9 findings plus the count notice
    assert levels.count("notice") == 10
    last = parsed[-1]
    assert last[0] == "notice" and "file" not in last[1]
    assert last[2].startswith("6 more findings not shown as annotations "
                              "(3 errors, 0 warnings, 3 notes)")
    assert levels == sorted(levels, key=["error", "warning", "notice"].index)


def test_github_without_overflow_has_no_count_notice():
    findings = many("CIP201", 10) + many("CIP301", 10) + many("CIP501", 10)
    parsed = parse_github(format_findings(findings, "github"))
    assert len(parsed) == 30 and all(p[1].get("title") != "calico-ipam: findings not shown"
                                     for p in parsed)


def test_github_shows_the_worst_ten_of_a_level():
    findings = many("CIP301", 12)
    shown = [p[1]["line"] for p in parse_github(format_findings(findings, "github"))
             if p[0] == "warning"]
    assert shown == [str(i) for i in range(1, 11)]


def test_github_finding_without_location_falls_back_to_the_stack_file():
    finding = rule("CIP202").finding("overlaps staging", "stack/prod", Location(), stack="prod")
    [(_, props, message)] = parse_github(format_findings([finding], "github",
                                                         stacks=[_Named("prod", PROD)]))
    assert props["file"] == PROD and "line" not in props
    assert message == "prod: overlaps staging"


def test_github_input_error_is_an_error_annotation_on_the_file_and_line():
    error = InputError('unknown key "blocksize"; did you mean "blockSize"?', file=DEV,
                       path=("config", "calico-ipam:pools", "a", "blocksize"), line=12, column=7)
    [(level, props, message)] = parse_github(format_input_error(error, "github"))
    assert level == "error"
    assert props == {"file": DEV, "line": "12", "col": "7", "title": "CIP002 stack-schema"}
    assert message == ('config.calico-ipam:pools.a.blocksize: unknown key "blocksize"; '
                       'did you mean "blockSize"?')


# -- sarif --------------------------------------------------------------------

def sarif_log(findings, **kwargs) -> dict:
    """The SARIF log of *findings*, held to the official schema and GitHub's needs."""
    log = json.loads(format_findings(findings, "sarif", **kwargs))
    validate_sarif(log)
    return log


def test_the_vendored_sarif_schema_is_the_published_one():
    digest = hashlib.sha256(SARIF_SCHEMA_FILE.read_bytes()).hexdigest()
    assert digest == SARIF_SCHEMA_SHA256
    schema = json.loads(SARIF_SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")


def test_sarif_validates_against_the_official_schema():
    validate_sarif(sarif_log(sample()))


def test_the_schema_validation_can_fail():
    log = sarif_log(sample())
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator().validate(log)
    del log["runs"][0]["tool"]["driver"]["rules"][0]["help"]
    log["runs"][0]["results"][0]["level"] = "error"
    with pytest.raises(jsonschema.ValidationError, match="help"):
        validate_sarif(log)


def test_sarif_rules_have_help_and_a_link_into_the_readme_rule_table():
    rules = sarif_log([])["runs"][0]["tool"]["driver"]["rules"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    by_id = {r["id"]: r for r in rules}
    for described in rules:
        rid = described["id"]
        assert described["helpUri"] == f"{project.README_URL}#{rid.lower()}"
        assert f'<a id="{rid.lower()}"></a>{rid} |' in readme  # the anchor exists
        assert RULES[rid].help.why in described["help"]["text"]
        assert RULES[rid].help.fix in described["help"]["markdown"]
    overlap_help = by_id["CIP201"]["help"]["markdown"]
    assert "**Why it matters.**" in overlap_help and "**How to fix.**" in overlap_help
    # a Calico rule links the Calico source lines it follows, at the commit that was read
    masked = by_id["CIP103"]["help"]["markdown"]
    assert (f"[`api/pkg/apis/projectcalico/v3/ippool.go:95`](https://github.com/projectcalico/"
            f"calico/blob/{project.CALICO_COMMIT}/api/pkg/apis/projectcalico/v3/ippool.go#L95)"
            in masked)
    assert "ippool.go:95" in by_id["CIP103"]["help"]["text"]


def test_sarif_tool_is_this_project_with_its_version():
    driver = sarif_log([])["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == project.URL
    assert driver["version"] == project.VERSION


def test_sarif_links_related_locations_from_the_message():
    result = sarif_log([overlap()])["runs"][0]["results"][0]
    related = result["relatedLocations"]
    assert [r["id"] for r in related] == [0]
    assert result["message"]["text"] == ("pools a (10.0.0.0/24) and b (10.0.0.128/25) overlap "
                                         "(see [config.calico-ipam:pools.a.cidr](0))")


def test_sarif_link_text_escapes_square_brackets():
    finding = rule("CIP201").finding("m", "namespace/web", loc(), stack="dev", related=(
        Location(DEV, ("config", "calico-ipam:namespaces", "web", "ipv4Pools", 0), 33, 9),))
    message = sarif_log([finding])["runs"][0]["results"][0]["message"]
    assert message["text"] == r"m (see [config.calico-ipam:namespaces.web.ipv4Pools\[0\]](0))"
    # every [text](n) names a related location of the result (SARIF 2.1.0 §3.11.6)
    for target in re.findall(r"\]\((\d+)\)", message["text"]):
        assert int(target) == 0


def test_sarif_rules_are_the_catalogue_and_results_point_into_it():
    run = sarif_log(sample())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == set(RULES)
    for result in run["results"]:
        described = rules[result["ruleIndex"]]
        assert described["id"] == result["ruleId"]
        assert described["name"] == RULES[result["ruleId"]].name
    by_id = {r["id"]: r for r in rules}
    assert by_id["CIP301"]["defaultConfiguration"]["level"] == "warning"
    assert by_id["CIP501"]["defaultConfiguration"]["level"] == "note"
    assert by_id["CIP201"]["shortDescription"]["text"] == RULES["CIP201"].summary


def test_sarif_results_carry_level_message_file_and_line():
    run = sarif_log(sample())["runs"][0]
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [
        ("CIP201", "error"), ("CIP301", "warning"), ("CIP501", "note")]
    overlap_result = run["results"][0]
    physical = overlap_result["locations"][0]["physicalLocation"]
    assert physical == {"artifactLocation": {"uri": PROD},
                        "region": {"startLine": 40, "startColumn": 7}}
    related = overlap_result["relatedLocations"][0]["physicalLocation"]
    assert related["region"]["startLine"] == 35
    assert overlap_result["message"]["text"].startswith("pools a (10.0.0.0/24)")


def test_sarif_fingerprint_survives_a_line_move_but_not_a_different_subject():
    def fingerprint(finding):
        run = sarif_log([finding])["runs"][0]
        return run["results"][0]["partialFingerprints"]

    assert fingerprint(capacity(20)) == fingerprint(capacity(31))
    assert fingerprint(capacity()) != fingerprint(public_space())


def test_sarif_uri_is_relative_with_forward_slashes_and_encoded():
    finding = rule("CIP301").finding("m", "pool/p", Location("my stacks\\Pulumi.dev.yaml", (),
                                                             2, None), stack="dev")
    result = sarif_log([finding])["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "my%20stacks/Pulumi.dev.yaml"


def test_sarif_with_no_findings_is_still_a_valid_log():
    log = sarif_log([])
    validate_sarif(log)
    assert log["runs"][0]["results"] == []


# -- all formats ---------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_ends_with_a_newline_and_is_deterministic(fmt):
    first = format_findings(sample(), fmt, stacks=["dev", "prod"])
    assert first.endswith("\n")
    assert format_findings(list(reversed(sample())), fmt, stacks=["dev", "prod"]) == first


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="sarif"):
        format_findings([], "xml")


def test_severity_words_cover_every_severity():
    for severity in Severity:
        finding = rule("CIP301").finding("m", "pool/p", loc(), stack="dev", severity=severity)
        for fmt in FORMATS:
            assert format_findings([finding], fmt)


class _Named:
    """A stand-in for Stack where only name and file matter."""

    def __init__(self, name, file):
        self.name, self.file = name, file


# -- the format registry ---------------------------------------------------------

def test_every_format_module_of_the_package_is_registered_in_order():
    """A module added to views/findings/ without NAME/ORDER/render fails here."""
    modules = {info.name for info in pkgutil.iter_modules(findings_views.__path__)}
    assert modules - {"report"} == set(FORMATS)
    assert list(FORMATS) == ["text", "json", "markdown", "github", "sarif"]
    for name, render in FORMATS.items():
        assert render is importlib.import_module(f"ipam_model.views.findings.{name}").render


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_accepts_every_registered_format(fmt, tmp_path, capsys):
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("config:\n  calico-ipam:pools:\n    a: {cidr: 10.10.0.0/24}\n")
    assert main(["check", "--stacks", str(tmp_path), "--format", fmt]) == 0
    stack = load_stack(path, "dev")
    # markdown adds the utilisation table of the declared load (issue 12)
    pools = forecast_rows(forecast(stack, node_groups=False)) if fmt == "markdown" else ()
    assert capsys.readouterr().out == format_findings(check_stacks([stack]), fmt, stacks=[stack],
                                                      pools=pools)


def test_check_refuses_a_format_the_registry_does_not_have(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["check", "--stacks", str(tmp_path), "--format", "xml"])
    err = capsys.readouterr().err
    assert all(name in err for name in FORMATS)
