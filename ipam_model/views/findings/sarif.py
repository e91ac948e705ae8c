"""Findings as SARIF 2.1.0 for code-scanning upload (checkov/common/output/sarif.py).

Held to the OASIS schema (sarif-schema-2.1.0.json, errata 01; vendored in
tests/data/sarif) and to what GitHub code scanning reads: every rule has
``help.text``/``help.markdown`` and a ``helpUri`` into the README's rule
table, and a result links its related locations (the other pool of an
overlap) from its message with SARIF's embedded links, ``[text](id)``
(SARIF 2.1.0 §3.11.6).
"""
from __future__ import annotations

import hashlib
from urllib.parse import quote

import msgspec

from ...catalogue import RULES
from ...core.model import Finding, Location, Severity
from ...core.project import URL, VERSION, rule_doc_url
from ..rule_help import help_markdown, help_text
from .report import TOOL_NAME, FindingsReport

NAME = "sarif"
ORDER = 50
INFORMATION_URI = URL
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _uri(path: str) -> str:
    return quote(path.replace("\\", "/"), safe="/-._~")


def _location(loc: Location, file: str, message: str | None = None, ident=None) -> dict:
    physical = {"artifactLocation": {"uri": _uri(file)},
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


def _rules() -> list[dict]:
    """The whole catalogue, sorted by id: results point into it by index."""
    return [{
        "id": r.id,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": f"{r.summary} Source: {r.source}."},
        "help": {"text": help_text(r), "markdown": help_markdown(r)},
        "helpUri": rule_doc_url(r.id),
        "defaultConfiguration": {"level": _LEVEL[r.severity]},
        "properties": {"source": r.source},
    } for r in sorted(RULES.values(), key=lambda r: r.id)]


def _link_text(text: str) -> str:
    """Link text of a plain-text embedded link: ``\\``, ``[`` and ``]`` escaped (§3.11.6)."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _where(loc: Location) -> str:
    """What a related location is called in the message: its YAML path, else file:line."""
    return loc.yaml_path or (f"{loc.file}:{loc.line}" if loc.line else loc.file or "")


def _message(f: Finding) -> str:
    """The finding's message, then a link to each related location it has a file for."""
    links = [f"[{_link_text(_where(loc))}]({i})" for i, loc in enumerate(f.related) if loc.file]
    if not links:
        return f.message
    return f"{f.message} (see {', '.join(links)})"


def _result(f: Finding, index: dict[str, int], stack_files: dict[str, str]) -> dict:
    result: dict = {"ruleId": f.rule, "level": _LEVEL[f.severity],
                    "message": {"text": _message(f)}}
    if f.rule in index:
        result["ruleIndex"] = index[f.rule]
    file = f.location.file or stack_files.get(f.stack or "")
    if file:
        location = _location(f.location, file)
        location["logicalLocations"] = [{"fullyQualifiedName": f"{f.stack or ''}/{f.subject}",
                                         "name": f.subject.split("/", 1)[-1],
                                         "kind": "object"}]
        result["locations"] = [location]
    related = [_location(loc, loc.file, loc.yaml_path or None, i)
               for i, loc in enumerate(f.related) if loc.file]
    if related:
        result["relatedLocations"] = related
    result["partialFingerprints"] = {"calicoIpamFinding/v1": _fingerprint(f)}
    result["properties"] = {"stack": f.stack, "subject": f.subject,
                            "yamlPath": f.location.yaml_path or None}
    return result


def render(report: FindingsReport) -> str:
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    stack_files = report.stack_files()
    document = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "informationUri": INFORMATION_URI,
                                "version": VERSION, "rules": rules}},
            "results": [_result(f, index, stack_files) for f in report.ordered],
        }],
    }
    return msgspec.json.format(msgspec.json.encode(document), indent=2).decode() + "\n"
