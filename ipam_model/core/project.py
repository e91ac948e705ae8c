"""Who calico-ipam is: its name, version, home and where its rules are documented.

One place for what the outputs say about the tool itself: ``--version``,
SARIF's ``tool.driver`` (``informationUri``, each rule's ``helpUri``) and
the Calico source links in the rules' help. ``pyproject.toml`` reads
``VERSION`` from here and names ``URL`` as the project's home (a test keeps
them equal).
"""
from __future__ import annotations

NAME = "calico-ipam"
VERSION = "0.1.0"
# The repository: its README is the user manual, with the rule table.
URL = "https://github.com/calico-ipam/calico-ipam"
README_URL = f"{URL}/blob/main/README.md"

# Calico's sources as cited in the rules' help: the commit they were read at,
# so that a "path:line" stays the line that was read.
CALICO_REPOSITORY = "https://github.com/projectcalico/calico"
CALICO_COMMIT = "87c15906f20c4ca1fda55af92295e7678b0cc0b2"


def rule_doc_url(rule_id: str) -> str:
    """The rule's row in the README rule table (each row carries an anchor named by
    the lower-case id, written by tests/readme_tables.py)."""
    return f"{README_URL}#{rule_id.lower()}"


def calico_source_url(reference: str) -> str:
    """``path/in/calico.go:123`` as a permanent link to that line at ``CALICO_COMMIT``."""
    path, _, line = reference.partition(":")
    anchor = f"#L{line}" if line.isdigit() else ""
    return f"{CALICO_REPOSITORY}/blob/{CALICO_COMMIT}/{path}{anchor}"
