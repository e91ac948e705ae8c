"""Findings for people and for CI: text, json, markdown, github and sarif.

Every format lists findings worst first. ``text`` is for a terminal,
``json`` for scripts (schema in docs/json-report.md), ``markdown`` for
``$GITHUB_STEP_SUMMARY``, ``github`` for workflow-command annotations and
``sarif`` for code-scanning upload. Formatting is pure: the command decides
where the text goes and whether it may be coloured.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata as _metadata
from typing import Iterable, Sequence
from urllib.parse import quote

from ..core.errors import InputError
from ..core.model import Finding, Location, Severity, sort_findings
from ..core.rules import RULES

FORMATS = ("text", "json", "markdown", "github", "sarif")
TOOL_NAME = "calico-ipam"
INFORMATION_URI = "https://calico-ipam.dev"  # the project's own domain, as in the schema $id
JSON_REPORT_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"

# GitHub shows at most 10 annotations of each kind per step (actions/toolkit
# docs/problem-matchers.md "Limitations"); the rest would vanish silently.
GITHUB_ANNOTATIONS_PER_LEVEL = 10
# GitHub caps one step summary at 1024 KiB; stay clearly below it.
MARKDOWN_BUDGET_BYTES = 1_000_000

_WORD = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_ANSI = {Severity.ERROR: "\033[1;31m", Severity.WARNING: "\033[33m", Severity.INFO: "\033[36m"}
_ANSI_BOLD, _ANSI_RESET = "\033[1m", "\033[0m"
_NO_STACK = "all stacks"


@dataclass(frozen=True)
class _Group:
    """The findings of one stack (or of no stack) and their counts."""

    name: str
    file: str | None
    findings: tuple[Finding, ...]

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


def format_findings(findings: Iterable[Finding], fmt: str, *, stacks: Sequence = (),
                    color: bool | None = None) -> str:
    """*findings* in format *fmt*. ``stacks`` (Stack objects or names) makes
    stacks without findings show up in the summaries; ``color`` only affects
    ``text`` and is off unless True."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    ordered = sort_findings(findings)
    groups = _group(ordered, stacks)
    if fmt == "text":
        return _text(groups, bool(color))
    if fmt == "json":
        return _json(ordered, groups)
    if fmt == "markdown":
        return _markdown(ordered, groups)
    if fmt == "github":
        return _github(ordered, _stack_files(groups))
    return _sarif(ordered, _stack_files(groups))


def format_input_error(error: InputError, fmt: str) -> str:
    """A bad input file as a report: in ``github`` format an ``::error`` on the
    file and line, so the pull request shows it like any other finding."""
    finding = input_error_finding(error)
    if fmt == "text":
        return _text_line(finding, False) + "\n"
    return format_findings([finding], fmt)


def input_error_finding(error: InputError) -> Finding:
    rule = RULES.get(error.rule) or RULES["CIP002"]
    loc = error.location
    message = f"{loc.yaml_path}: {error.message}" if loc.path else error.message
    return rule.finding(message, "stack/" + (loc.file or "<input>"), loc)


# -- shared -------------------------------------------------------------------

def _stack_identity(stack) -> tuple[str, str | None]:
    if isinstance(stack, str):
        return stack, None
    return stack.name, getattr(stack, "file", None)


def _group(ordered: list[Finding], stacks: Sequence) -> list[_Group]:
    """Groups in the order of *stacks*, then other stacks by name, then
    findings that belong to no single stack."""
    known = [_stack_identity(s) for s in stacks]
    names = [n for n, _ in known]
    files = dict(known)
    for f in ordered:
        if f.stack is not None and f.stack not in files:
            files[f.stack] = None
    extra = sorted(n for n in files if n not in names)
    groups = []
    for name in names + extra:
        mine = tuple(f for f in ordered if f.stack == name)
        file = files[name] or next((f.location.file for f in mine if f.location.file), None)
        groups.append(_Group(name, file, mine))
    orphans = tuple(f for f in ordered if f.stack is None)
    if orphans:
        groups.append(_Group(_NO_STACK, None, orphans))
    return groups


def _stack_files(groups: list[_Group]) -> dict[str, str]:
    return {g.name: g.file for g in groups if g.file and g.name != _NO_STACK}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _counts(errors: int, warnings: int, notes: int) -> str:
    return f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}, {_plural(notes, 'note')}"


def _where(loc: Location) -> str:
    """``file:line`` (or ``file: yaml.path`` when the line is unknown)."""
    if loc.file:
        if loc.line:
            return f"{loc.file}:{loc.line}"
        return f"{loc.file}: {loc.yaml_path}" if loc.path else loc.file
    return loc.yaml_path or ""


# -- text ---------------------------------------------------------------------

def _text_line(f: Finding, color: bool) -> str:
    word = _WORD[f.severity]
    if color:
        word = f"{_ANSI[f.severity]}{word}{_ANSI_RESET}"
    where = _where(f.location)
    message = f.message.replace("\r", " ").replace("\n", " ")
    return f"{where + ': ' if where else ''}{word} {f.rule} {f.name}: {message}"


def _text(groups: list[_Group], color: bool) -> str:
    lines: list[str] = []
    for group in groups:
        if group.findings and lines:
            lines.append("")
        lines.extend(_text_line(f, color) for f in group.findings)
        counts = _counts(group.count(Severity.ERROR), group.count(Severity.WARNING),
                         group.count(Severity.INFO))
        name = f"{_ANSI_BOLD}{group.name}{_ANSI_RESET}" if color else group.name
        lines.append(f"{name}: {counts}")
    if len(groups) > 1:
        total = [sum(g.count(s) for g in groups) for s in Severity]
        lines.append(f"total: {_counts(*total)}")
    return "\n".join(lines) + "\n"


# -- json ---------------------------------------------------------------------

def _json(ordered: list[Finding], groups: list[_Group]) -> str:
    document = {
        "version": JSON_REPORT_VERSION,
        "tool": TOOL_NAME,
        "summary": {
            "errors": sum(f.severity is Severity.ERROR for f in ordered),
            "warnings": sum(f.severity is Severity.WARNING for f in ordered),
            "infos": sum(f.severity is Severity.INFO for f in ordered),
            "stacks": [{"name": g.name, "file": g.file, "errors": g.count(Severity.ERROR),
                        "warnings": g.count(Severity.WARNING), "infos": g.count(Severity.INFO)}
                       for g in groups if g.name != _NO_STACK],
        },
        "findings": [f.to_dict() for f in ordered],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- markdown -----------------------------------------------------------------

def markdown_cell(text: str) -> str:
    """Text that stays inside one GitHub table cell and renders as text."""
    return (str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")
            .replace(">", "&gt;").replace("\r\n", "<br>").replace("\n", "<br>")
            .replace("\r", "<br>"))


def _code(text: str) -> str:
    # Inside a code span only the pipe needs escaping (GFM splits cells first).
    if not text:
        return ""
    if "`" in text:
        return markdown_cell(text)
    return "`" + text.replace("|", "\\|") + "`"


_MD_ICON = {Severity.ERROR: "❌ error", Severity.WARNING: "⚠️ warning", Severity.INFO: "ℹ️ note"}


def _markdown(ordered: list[Finding], groups: list[_Group]) -> str:
    totals = [sum(f.severity is s for f in ordered) for s in Severity]
    verdict = "❌" if totals[0] else "✅"
    head = [f"## {verdict} calico-ipam check: {_counts(*totals)}", "",
            "| Stack | File | Errors | Warnings | Notes |", "|---|---|--:|--:|--:|"]
    for g in groups:
        head.append(f"| {markdown_cell(g.name)} | {_code(g.file or '')} | "
                    f"{g.count(Severity.ERROR)} | {g.count(Severity.WARNING)} | "
                    f"{g.count(Severity.INFO)} |")
    if not ordered:
        return "\n".join(head) + "\n\nNo findings.\n"
    head += ["", "| Severity | Stack | Rule | Location | Message |", "|---|---|---|---|---|"]
    text = "\n".join(head) + "\n"
    size = len(text.encode())
    rows = []
    reserve = 300  # room for the "not shown" line
    for index, f in enumerate(ordered):
        row = (f"| {_MD_ICON[f.severity]} | {markdown_cell(f.stack or _NO_STACK)} | "
               f"{f.rule} {markdown_cell(f.name)} | {_code(_where(f.location))} | "
               f"{markdown_cell(f.message)} |\n")
        cost = len(row.encode())
        if size + cost + reserve > MARKDOWN_BUDGET_BYTES:
            left = ordered[index:]
            rows.append(f"\n{_plural(len(left), 'more finding')} not shown "
                        f"({_counts(*[sum(x.severity is s for x in left) for s in Severity])}) "
                        "to keep the summary under GitHub's 1 MiB limit; "
                        "`calico-ipam check --format json` lists them all.\n")
            break
        rows.append(row)
        size += cost
    return text + "".join(rows)


# -- github workflow commands -------------------------------------------------

def github_data(text: str) -> str:
    """Escape a workflow command's message (actions/toolkit ``escapeData``)."""
    return str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(text: str) -> str:
    """Escape a workflow command property value (``escapeProperty``): ``:``
    and ``,`` would end the value."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def _github_command(f: Finding, stack_files: dict[str, str]) -> str:
    loc = f.location
    props = []
    file = loc.file or stack_files.get(f.stack or "")
    if file:
        props.append(f"file={github_property(file)}")
        if loc.file and loc.line:
            props.append(f"line={loc.line}")
            if loc.column:
                props.append(f"col={loc.column}")
    props.append(f"title={github_property(f'{f.rule} {f.name}')}")
    message = f.message
    if not loc.file and f.stack:
        message = f"{f.stack}: {message}"
    return f"::{_GITHUB_COMMAND[f.severity]} {','.join(props)}::{github_data(message)}"


def _github(ordered: list[Finding], stack_files: dict[str, str]) -> str:
    by_level = {s: [f for f in ordered if f.severity is s] for s in Severity}
    cap = GITHUB_ANNOTATIONS_PER_LEVEL
    left_out = sum(max(0, len(fs) - cap) for fs in by_level.values())
    # The count notice is itself a notice: keep it within the per-step limit.
    info_cap = cap - 1 if left_out or len(by_level[Severity.INFO]) > cap else cap
    caps = {Severity.ERROR: cap, Severity.WARNING: cap, Severity.INFO: info_cap}
    lines, hidden = [], {}
    for severity in Severity:
        shown = by_level[severity][:caps[severity]]
        hidden[severity] = len(by_level[severity]) - len(shown)
        lines.extend(_github_command(f, stack_files) for f in shown)
    if any(hidden.values()):
        total = sum(hidden.values())
        detail = _counts(*(hidden[s] for s in Severity))
        lines.append(f"::notice title={github_property('calico-ipam: findings not shown')}::"
                     + github_data(f"{_plural(total, 'more finding')} not shown as annotations "
                                   f"({detail}); GitHub shows at most {cap} per level and step. "
                                   "The job summary (--format markdown) or SARIF lists them all."))
    return "\n".join(lines) + ("\n" if lines else "")


# -- sarif --------------------------------------------------------------------

def _tool_version() -> str:
    try:
        return _metadata.version("calico-ipam")
    except _metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def _sarif_uri(path: str) -> str:
    return quote(path.replace("\\", "/"), safe="/-._~")


def _sarif_location(loc: Location, file: str, message: str | None = None, ident=None) -> dict:
    physical = {"artifactLocation": {"uri": _sarif_uri(file)},
                # GitHub requires a region; line 1 when only the file is known.
                "region": {"startLine": loc.line if loc.file and loc.line else 1}}
    if loc.file and loc.line and loc.column:
        physical["region"]["startColumn"] = loc.column
    out: dict = {"physicalLocation": physical}
    if ident is not None:
        out["id"] = ident
    if message:
        out["message"] = {"text": message}
    return out


def _fingerprint(f: Finding) -> str:
    # Stable across line moves: what the finding is about, not where it sits.
    key = "\x00".join([f.rule, f.stack or "", f.subject, f.location.yaml_path])
    return hashlib.sha256(key.encode()).hexdigest()


def _sarif(ordered: list[Finding], stack_files: dict[str, str]) -> str:
    catalogue = sorted(RULES.values(), key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(catalogue)}
    rules = [{
        "id": r.id,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": f"{r.summary} Source: {r.source}."},
        "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
        "properties": {"source": r.source},
    } for r in catalogue]
    results = []
    for f in ordered:
        result: dict = {"ruleId": f.rule, "level": _SARIF_LEVEL[f.severity],
                        "message": {"text": f.message}}
        if f.rule in index:
            result["ruleIndex"] = index[f.rule]
        file = f.location.file or stack_files.get(f.stack or "")
        if file:
            location = _sarif_location(f.location, file)
            location["logicalLocations"] = [{"fullyQualifiedName": f"{f.stack or ''}/{f.subject}",
                                             "name": f.subject.split("/", 1)[-1],
                                             "kind": "object"}]
            result["locations"] = [location]
        related = [_sarif_location(loc, loc.file, loc.yaml_path or None, i)
                   for i, loc in enumerate(f.related) if loc.file]
        if related:
            result["relatedLocations"] = related
        result["partialFingerprints"] = {"calicoIpamFinding/v1": _fingerprint(f)}
        result["properties"] = {"stack": f.stack, "subject": f.subject,
                                "yamlPath": f.location.yaml_path or None}
        results.append(result)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "informationUri": INFORMATION_URI,
                                "version": _tool_version(), "rules": rules}},
            "results": results,
        }],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
