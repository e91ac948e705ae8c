"""A rule's documentation as plain text and as markdown (SARIF ``help``).

GitHub code scanning shows ``help.markdown`` (else ``help.text``) next to
every result of the rule; both say what the rule catches (its summary), why
it matters, how to fix it and, for a rule that follows Calico, the Calico
source lines with permanent links. The words are declared with each rule
(``Rule.help``); this module only lays them out. Pure.
"""
from __future__ import annotations

from ..core.project import CALICO_COMMIT, calico_source_url, rule_doc_url
from ..core.rules import Rule


def _heading(rule: Rule) -> str:
    origin = "Calico" if rule.source != "calico-ipam" else "calico-ipam"
    return f"{rule.id} {rule.name} ({rule.severity.value}, from {origin})"


def help_text(rule: Rule) -> str:
    """Plain text: heading, summary, why, fix, Calico sources and the rule table's address."""
    lines = [f"{_heading(rule)}: {rule.summary}"]
    if rule.help is not None:
        lines += [f"Why it matters: {rule.help.why}", f"How to fix: {rule.help.fix}"]
        if rule.help.calico:
            lines.append(f"Calico source (projectcalico/calico at {CALICO_COMMIT[:12]}): "
                         + ", ".join(rule.help.calico))
    lines.append(f"Rule table: {rule_doc_url(rule.id)}")
    return "\n".join(lines)


def help_markdown(rule: Rule) -> str:
    """The same as GitHub-flavoured markdown, the Calico sources as links to their lines."""
    parts = [f"**{_heading(rule)}**", rule.summary]
    if rule.help is not None:
        parts += [f"**Why it matters.** {rule.help.why}", f"**How to fix.** {rule.help.fix}"]
        if rule.help.calico:
            links = ", ".join(f"[`{ref}`]({calico_source_url(ref)})" for ref in rule.help.calico)
            parts.append(f"**Calico source:** {links}")
    parts.append(f"[{rule.id} in the rule table]({rule_doc_url(rule.id)})")
    return "\n\n".join(parts)
