"""Kubernetes names, labels and annotation keys, as apimachinery and Calico validate them.

Calico validates IPPool names (DNS-1123 subdomains), label keys and values and
annotation keys with apimachinery's rules and quotes their wording; the
messages here keep that wording so users can search for it.
"""
from __future__ import annotations

import re

NAME_MAX_LENGTH = 253               # DNS-1123 subdomain
QUALIFIED_NAME_MAX_LENGTH = 63      # name part of a label/annotation key, and a label value
NAMESPACE_NAME_MAX_LENGTH = 63
_DNS1123_LABEL_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
NAME_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
NAME_SUBDOMAIN = NAME_LABEL + r"(\." + NAME_LABEL + ")*"
NAME_RE = re.compile(NAME_SUBDOMAIN)
_QUALIFIED_NAME_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


# Calico's own wording, quoted in messages so users can search for it.
CALICO_NAME = ("name must consist of lower case alphanumeric characters, '-' or '.' "
               f"(regex: {NAME_SUBDOMAIN})")
CALICO_QNAME = ("must consist of alphanumeric characters, '-', '_' or '.', "
                "and must start and end with an alphanumeric character")
CALICO_SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                    "characters, '-' or '.', and must start and end with an alphanumeric "
                    "character")
CALICO_LABEL_VALUE = ("a valid label must be an empty string or consist of alphanumeric "
                      "characters, '-', '_' or '.', and must start and end with an "
                      "alphanumeric character")


def byte_len(text: str) -> int:
    # Go's len() counts UTF-8 bytes; surrogates from odd input must not raise.
    return len(text.encode("utf-8", "surrogatepass"))


def subdomain_problems(value: str) -> list[str]:
    problems = []
    if byte_len(value) > NAME_MAX_LENGTH:
        problems.append(f"must be no more than {NAME_MAX_LENGTH} characters")
    if not NAME_RE.fullmatch(value):
        problems.append(CALICO_SUBDOMAIN)
    return problems


def qualified_name_problems(key: str) -> list[str]:
    parts = key.split("/")
    if len(parts) > 2:
        return ["a qualified name " + CALICO_QNAME +
                " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    problems = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            problems.append("prefix part must be non-empty")
        else:
            problems.extend("prefix part " + p for p in subdomain_problems(prefix))
    if not name:
        problems.append("name part must be non-empty")
    elif byte_len(name) > QUALIFIED_NAME_MAX_LENGTH:
        problems.append(f"name part must be no more than {QUALIFIED_NAME_MAX_LENGTH} characters")
    if not _QUALIFIED_NAME_RE.fullmatch(name):
        problems.append("name part " + CALICO_QNAME)
    return problems


def label_value_problems(value: str) -> list[str]:
    problems = []
    if byte_len(value) > QUALIFIED_NAME_MAX_LENGTH:
        problems.append(f"must be no more than {QUALIFIED_NAME_MAX_LENGTH} characters")
    if not _LABEL_VALUE_RE.fullmatch(value):
        problems.append(CALICO_LABEL_VALUE)
    return problems


def name_hint(name: str) -> str | None:
    """A valid DNS-1123 name close to ``name`` (lower-cased, '_' and spaces to '-')."""
    fixed = re.sub(r"[_\s]+", "-", name.lower())
    fixed = re.sub(r"[^a-z0-9.\-]", "", fixed).strip("-.")
    fixed = re.sub(r"\.{2,}", ".", fixed)
    fixed = re.sub(r"-*\.-*", ".", fixed)
    if fixed and fixed != name and len(fixed) <= NAME_MAX_LENGTH and NAME_RE.fullmatch(fixed):
        return fixed
    return None


def namespace_name_problem(name: str) -> str | None:
    """Why *name* is not a Kubernetes namespace name (a DNS-1123 label), or None."""
    if not name:
        return "is empty"
    if len(name) > NAMESPACE_NAME_MAX_LENGTH:
        return f"is {len(name)} characters long; namespace names have at most 63"
    if not _DNS1123_LABEL_RE.fullmatch(name):
        return ("must consist of lower case letters, digits and '-', and start and end with a "
                "letter or digit (a DNS-1123 label)")
    return None


def label_problems(labels) -> list[tuple[str, str]]:
    """(label key, what is wrong) for every invalid Kubernetes label key or value."""
    problems = []
    for key, value in labels.items():
        for problem in qualified_name_problems(key):
            problems.append((key, f"label key {key!r}: {problem}"))
        for problem in label_value_problems(value):
            problems.append((key, f"label {key!r} value {value!r}: {problem}"))
    return problems
