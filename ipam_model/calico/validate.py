"""Calico's IPPool defaults and validation rules (R1-R19), name and metadata rules.

Calico validates an IPPool in several layers that have moved between releases:
clientv3 ``validateAndSetDefaults`` (calicoctl and the Calico API server), the Go
struct validator, and the CRD schema with its CEL rules (v3.32+). A write straight
to ``crd.projectcalico.org/v1`` skips most of them, so this module applies the
union: a pool that passes here is accepted by every write path, and a pool that
fails would be refused by at least one of them (or silently break allocation).
Facts and wording: /work/shared/reference/calico-ippool-rules.md §1-§2, §6.

``validate_pool`` never raises, whatever the input: stack files and Python
callers both hand it raw mappings, and a wrong type is a finding, not a crash.
"""
from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Mapping
from typing import Any, Callable

import netaddr

from ..core import rules
from ..core.model import (
    BLOCK_SIZE_RANGE,
    DEFAULT_ALLOWED_USES,
    DEFAULT_BLOCK_SIZE,
    DEFAULT_NODE_SELECTOR,
    Finding,
    Location,
    Pool,
    PoolSpec,
    frozen_map,
    has_errors,
)
from .selector import SelectorError, parse_selector

__all__ = ["validate_pool", "apply_defaults", "pool_from_spec", "SPEC_FIELDS",
           "ENCAPSULATION_MODES", "ALLOWED_USES", "ASSIGNMENT_MODES", "LINK_LOCAL"]

ENCAPSULATION_MODES = ("Never", "Always", "CrossSubnet")
ENABLED_MODES = ("Always", "CrossSubnet")
ALLOWED_USES = ("Workload", "Tunnel", "LoadBalancer")
ASSIGNMENT_MODES = ("Automatic", "Manual")
LINK_LOCAL = {4: netaddr.IPNetwork("169.254.0.0/16"), 6: netaddr.IPNetwork("fe80::/10")}
SELECTOR_MAX_LENGTH = 1024          # CRD maxLength of nodeSelector/namespaceSelector
CIDR_MAX_LENGTH = 48                # CRD maxLength of cidr
NAME_MAX_LENGTH = 253               # DNS-1123 subdomain
QUALIFIED_NAME_MAX_LENGTH = 63      # name part of a label/annotation key, and a label value
ANNOTATIONS_MAX_BYTES = 256 * 1024  # validator totalAnnotationSizeLimitB

# IPPoolSpec's JSON field names; ``ipip`` and ``nat-outgoing`` are the deprecated
# APIv1 leftovers that Calico <= v3.31 still parses (and requires unset).
DEPRECATED_FIELDS = ("ipip", "nat-outgoing")
SPEC_FIELDS = ("cidr", "blockSize", "ipipMode", "vxlanMode", "natOutgoing", "disabled",
               "disableBGPExport", "nodeSelector", "namespaceSelector", "allowedUses",
               "assignmentMode") + DEPRECATED_FIELDS
_BOOL_FIELDS = ("natOutgoing", "disabled", "disableBGPExport")

_NAME_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_NAME_SUBDOMAIN = _NAME_LABEL + r"(\." + _NAME_LABEL + ")*"
_NAME_RE = re.compile(_NAME_SUBDOMAIN)
_QUALIFIED_NAME_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")

# Calico's own wording, quoted in messages so users can search for it.
_CALICO_NAME = ("name must consist of lower case alphanumeric characters, '-' or '.' "
                f"(regex: {_NAME_SUBDOMAIN})")
_CALICO_CIDR_INVALID = "IPPool CIDR must be a valid subnet"
_CALICO_BLOCK_RANGE = ("blockSize must be between 20 and 32 for IPv4 pools, "
                       "and between 116 and 128 for IPv6 pools")
_CALICO_POOL_TOO_SMALL = ("IP pool size is too small for use with Calico IPAM. "
                          "It must be equal to or greater than the block size.")
_CALICO_QNAME = ("must consist of alphanumeric characters, '-', '_' or '.', "
                 "and must start and end with an alphanumeric character")
_CALICO_SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                     "characters, '-' or '.', and must start and end with an alphanumeric "
                     "character")
_CALICO_LABEL_VALUE = ("a valid label must be an empty string or consist of alphanumeric "
                       "characters, '-', '_' or '.', and must start and end with an "
                       "alphanumeric character")

Locate = Callable[[tuple], Location]


# --------------------------------------------------------------------------
# Small helpers for messages in the user's terms.

def _show(value: Any, limit: int = 80) -> str:
    """A value as the user would write it in YAML/JSON (strings quoted)."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def _pool_label(name: Any) -> str:
    if isinstance(name, str) and name and re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        return name if len(name) <= 80 else name[:79] + "…"
    return _show(name)


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    """The intended choice for a misspelt or mis-cased ``word``, if one is close."""
    for choice in choices:
        if choice.lower() == word.lower():
            return choice
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return close[0]
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def _did_you_mean(word: str, choices) -> str:
    hint = _suggest(word, tuple(choices))
    return f'; did you mean "{hint}"?' if hint else ""


def _byte_len(text: str) -> int:
    # Go's len() counts UTF-8 bytes; surrogates from odd input must not raise.
    return len(text.encode("utf-8", "surrogatepass"))


# --------------------------------------------------------------------------
# CIDR parsing, as strict as Go's net.ParseCIDR (clientv3 requires CIDR notation).

@functools.lru_cache(maxsize=65536)
def _parse_cidr(text: str) -> tuple[netaddr.IPNetwork | None, str | None]:
    """(network with host bits as written, None) or (None, what is wrong).

    Cached (validation and apply_defaults parse every CIDR); callers must treat
    the returned network as read-only."""
    if text.count("/") != 1:
        if "/" not in text:
            try:
                ip = netaddr.IPAddress(text, flags=netaddr.INET_PTON)
            except (netaddr.AddrFormatError, ValueError, TypeError):
                return None, "is not a CIDR such as 10.244.0.0/16 or fd00:10:244::/56"
            bits = 32 if ip.version == 4 else 128
            return None, (f"is a bare IP address without a prefix length; write it in CIDR "
                          f"notation, e.g. {ip}/{bits}")
        return None, "has more than one '/'"
    address, prefix = text.split("/")
    try:
        ip = netaddr.IPAddress(address, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None, f"address part {_show(address)} is not a valid IPv4 or IPv6 address"
    if not prefix or not all("0" <= ch <= "9" for ch in prefix):
        return None, f"prefix length {_show(prefix)} is not a number"
    # Like Go's dtoi, cap absurd lengths instead of converting thousands of digits.
    length = int(prefix) if len(prefix.lstrip("0")) <= 4 else 99999
    if ip.version == 6 and ip.is_ipv4_mapped():
        # Go treats ::ffff:a.b.c.d as IPv4 (To4), so Calico mixes the families' rules.
        return None, (f"uses an IPv4-mapped IPv6 address, which Calico handles as IPv4; "
                      f"write the IPv4 CIDR instead, e.g. {ip.ipv4()}/"
                      f"{min(max(length - 96, 0), 32)}")
    bits = 32 if ip.version == 4 else 128
    if length > bits:
        family = "IPv4" if ip.version == 4 else "IPv6"
        shown = prefix if len(prefix) <= 6 else prefix[:6] + "…"
        return None, (f"prefix length /{shown} is longer than an {family} address "
                      f"({bits} bits)")
    return netaddr.IPNetwork(f"{ip}/{length}"), None


def _canonical_cidr(network: netaddr.IPNetwork) -> str:
    # netaddr prints IPv6 compressed and lower-case, like Go's IPNet.String().
    return str(network.cidr)


@functools.lru_cache(maxsize=65536)
def _masked_cidr(text: str) -> tuple[netaddr.IPNetwork, str] | None:
    """(masked network, its canonical text) of a CIDR ``_parse_cidr`` accepts, else
    None. Validation and apply_defaults both need them for every pool; cached
    like ``_parse_cidr``, so the network is read-only too."""
    network, _ = _parse_cidr(text)
    if network is None:
        return None
    masked = network.cidr
    return masked, _canonical_cidr(masked)


# --------------------------------------------------------------------------
# Kubernetes name / label / annotation rules (apimachinery validation).

def _dns1123_subdomain_problems(value: str) -> list[str]:
    problems = []
    if _byte_len(value) > NAME_MAX_LENGTH:
        problems.append(f"must be no more than {NAME_MAX_LENGTH} characters")
    if not _NAME_RE.fullmatch(value):
        problems.append(_CALICO_SUBDOMAIN)
    return problems


def _qualified_name_problems(key: str) -> list[str]:
    parts = key.split("/")
    if len(parts) > 2:
        return ["a qualified name " + _CALICO_QNAME +
                " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    problems = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            problems.append("prefix part must be non-empty")
        else:
            problems.extend("prefix part " + p for p in _dns1123_subdomain_problems(prefix))
    if not name:
        problems.append("name part must be non-empty")
    elif _byte_len(name) > QUALIFIED_NAME_MAX_LENGTH:
        problems.append(f"name part must be no more than {QUALIFIED_NAME_MAX_LENGTH} characters")
    if not _QUALIFIED_NAME_RE.fullmatch(name):
        problems.append("name part " + _CALICO_QNAME)
    return problems


def _label_value_problems(value: str) -> list[str]:
    problems = []
    if _byte_len(value) > QUALIFIED_NAME_MAX_LENGTH:
        problems.append(f"must be no more than {QUALIFIED_NAME_MAX_LENGTH} characters")
    if not _LABEL_VALUE_RE.fullmatch(value):
        problems.append(_CALICO_LABEL_VALUE)
    return problems


def _name_hint(name: str) -> str | None:
    """A valid DNS-1123 name close to ``name`` (lower-cased, '_' and spaces to '-')."""
    fixed = re.sub(r"[_\s]+", "-", name.lower())
    fixed = re.sub(r"[^a-z0-9.\-]", "", fixed).strip("-.")
    fixed = re.sub(r"\.{2,}", ".", fixed)
    fixed = re.sub(r"-*\.-*", ".", fixed)
    if fixed and fixed != name and len(fixed) <= NAME_MAX_LENGTH and _NAME_RE.fullmatch(fixed):
        return fixed
    return None


# --------------------------------------------------------------------------
# The checker: one pool, findings in the order a user would fix them.

class _Checker:
    def __init__(self, name: Any, locate: Locate | None, stack: str | None):
        self.name = name
        self.label = _pool_label(name)
        self.subject = f"pool/{name if isinstance(name, str) else _show(name)}"
        self.locate_fn = locate
        self.stack = stack
        self.findings: list[Finding] = []

    def where(self, path: tuple) -> Location:
        if self.locate_fn is not None:
            try:
                return self.locate_fn(tuple(path))
            except Exception:  # a broken locator must not hide the finding itself
                pass
        if path and path[0] == "metadata":
            return Location(path=tuple(path))
        return Location(path=("spec",) + tuple(path))

    def report(self, rule_id: str, path: tuple, message: str) -> None:
        self.findings.append(rules.rule(rule_id).finding(
            f"pool {self.label}: {message}", self.subject, self.where(path), stack=self.stack))


def _check_name(c: _Checker) -> None:
    name = c.name
    path = ("metadata", "name")
    if name is None:
        c.report("CIP119", path, f'the name is missing; every IPPool needs one (Calico: '
                 f'"{_CALICO_NAME}")')
        return
    if not isinstance(name, str):
        c.report("CIP119", path, f"the name {_show(name)} is a {_kind(name)}, not a string "
                 f'(Calico: "{_CALICO_NAME}")')
        return
    if name == "":
        c.report("CIP119", path, f'the name is empty; every IPPool needs one (Calico: '
                 f'"{_CALICO_NAME}")')
        return
    over = _byte_len(name) - NAME_MAX_LENGTH
    if over > 0:
        c.report("CIP119", path, f"the name is {_byte_len(name)} bytes long, at most "
                 f"{NAME_MAX_LENGTH} are allowed (Calico: \"name is too long by {over} bytes\")")
    if not _NAME_RE.fullmatch(name):
        reasons = []
        if any("A" <= ch <= "Z" for ch in name):
            reasons.append("upper-case letters")
        bad = sorted({ch for ch in name if not ("a" <= ch <= "z" or "0" <= ch <= "9"
                                                   or ch in "-." or "A" <= ch <= "Z")})
        if bad:
            reasons.append("the character(s) " + " ".join(_show(ch) for ch in bad))
        if name[0] in "-." or name[-1] in "-.":
            reasons.append("must start and end with a letter or digit")
        if ".." in name or ".-" in name or "-." in name:
            reasons.append("each dot-separated part must start and end with a letter or digit")
        why = "; ".join(reasons) or "not a DNS-1123 subdomain"
        hint = _name_hint(name)
        c.report("CIP119", path, f"name {_show(name)} is not a valid IPPool name ({why})"
                 + (f'; did you mean "{hint}"?' if hint else "")
                 + f' (Calico: "{_CALICO_NAME}")')


def _check_metadata(c: _Checker, metadata: Any) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, Mapping):
        c.report("CIP120", ("metadata",), f"metadata must be a mapping with labels and "
                 f"annotations, not a {_kind(metadata)}")
        return
    labels = metadata.get("labels")
    if labels is not None:
        if not isinstance(labels, Mapping):
            c.report("CIP120", ("metadata", "labels"),
                     f"labels must be a mapping of key: value, not a {_kind(labels)}")
        else:
            for key, value in labels.items():
                path = ("metadata", "labels", key)
                if not isinstance(key, str):
                    c.report("CIP120", path, f"label key {_show(key)} is a {_kind(key)}; "
                             "label keys are strings")
                    continue
                for problem in _qualified_name_problems(key):
                    c.report("CIP120", path, f"label key {_show(key)} is not a valid "
                             f'Kubernetes label key (Calico: "{problem}")')
                if not isinstance(value, str):
                    c.report("CIP120", path, f"label {key} has the {_kind(value)} value "
                             f"{_show(value)}; label values are strings, quote it: "
                             f"{key}: \"{value if value is not None else ''}\"")
                    continue
                for problem in _label_value_problems(value):
                    c.report("CIP120", path, f"label {key} has the value {_show(value)}, "
                             f'which is not a valid label value (Calico: "{problem}")')
    annotations = metadata.get("annotations")
    if annotations is not None:
        if not isinstance(annotations, Mapping):
            c.report("CIP120", ("metadata", "annotations"),
                     f"annotations must be a mapping of key: value, not a {_kind(annotations)}")
            return
        total = 0
        for key, value in annotations.items():
            path = ("metadata", "annotations", key)
            if not isinstance(key, str):
                c.report("CIP120", path, f"annotation key {_show(key)} is a {_kind(key)}; "
                         "annotation keys are strings")
                continue
            # Calico lower-cases annotation keys before the qualified-name check.
            for problem in _qualified_name_problems(key.lower()):
                c.report("CIP120", path, f"annotation key {_show(key)} is not a valid "
                         f'Kubernetes annotation key (Calico: "{problem}")')
            if not isinstance(value, str):
                c.report("CIP120", path, f"annotation {key} has the {_kind(value)} value "
                         f"{_show(value)}; annotation values are strings, quote it")
                total += _byte_len(key)
                continue
            total += _byte_len(key) + _byte_len(value)
        if total > ANNOTATIONS_MAX_BYTES:
            c.report("CIP120", ("metadata", "annotations"),
                     f"annotations total {total} bytes, more than the {ANNOTATIONS_MAX_BYTES} "
                     f"bytes (256 KiB) Kubernetes allows (Calico: \"total size of annotations "
                     f"is too large by {total - ANNOTATIONS_MAX_BYTES} bytes\")")


def _check_unknown_fields(c: _Checker, spec: Mapping) -> None:
    for key in spec:
        if isinstance(key, str) and key in SPEC_FIELDS:
            continue
        if not isinstance(key, str):
            c.report("CIP002", (key,), f"the IPPool spec has the {_kind(key)} key "
                     f"{_show(key)}; field names are strings such as \"cidr\"")
            continue
        c.report("CIP002", (key,), f"unknown field {_show(key)} in the IPPool spec"
                 + _did_you_mean(key, SPEC_FIELDS[:-len(DEPRECATED_FIELDS)])
                 + (" (Calico would reject it, or silently drop it on a raw CRD write)"))


def _check_cidr(c: _Checker, spec: Mapping) -> netaddr.IPNetwork | None:
    """The pool's network, masked, or None when the CIDR is missing or unusable."""
    raw = spec.get("cidr")
    if raw is None or raw == "":
        c.report("CIP101", ("cidr",), 'cidr is missing; every IPPool needs one, e.g. '
                 'cidr: 10.244.0.0/16 (Calico: "IPPool CIDR must be specified")')
        return None
    if not isinstance(raw, str):
        c.report("CIP102", ("cidr",), f"cidr {_show(raw)} is a {_kind(raw)}, not a CIDR "
                 f'string such as "10.244.0.0/16" (Calico: "{_CALICO_CIDR_INVALID}")')
        return None
    network, problem = _parse_cidr(raw)
    if network is None:
        c.report("CIP102", ("cidr",), f'cidr {_show(raw)} {problem} (Calico: '
                 f'"{_CALICO_CIDR_INVALID}")')
        return None
    if len(raw) > CIDR_MAX_LENGTH:
        c.report("CIP102", ("cidr",), f"cidr {_show(raw)} is {len(raw)} characters long; the "
                 f"IPPool CRD allows at most {CIDR_MAX_LENGTH}: write it as "
                 f"{_canonical_cidr(network)}")
    if network.ip != network.network:
        c.report("CIP103", ("cidr",), f"cidr {raw} has host bits set: did you mean "
                 f"{_canonical_cidr(network)}? Calico rejects it rather than masking it "
                 f'(Calico: "IPPool CIDR is not strictly masked")')
    return _masked_cidr(raw)[0]


def _check_block_size(c: _Checker, spec: Mapping, version: int | None) -> int | None:
    """The effective block size (defaults applied), or None when it is unusable."""
    raw = spec.get("blockSize")
    if raw is None or (raw == 0 and isinstance(raw, int) and not isinstance(raw, bool)):
        return DEFAULT_BLOCK_SIZE.get(version) if version else None
    if isinstance(raw, bool) or not isinstance(raw, int):
        hint = ""
        if isinstance(raw, str) and raw.strip().isdigit():
            hint = f"; write it without quotes: blockSize: {int(raw.strip())}"
        elif isinstance(raw, float) and raw.is_integer():
            hint = f"; write it as a whole number: blockSize: {int(raw)}"
        c.report("CIP104", ("blockSize",), f"blockSize {_show(raw)} is a {_kind(raw)}, not an "
                 f"integer{hint} (Calico: \"{_CALICO_BLOCK_RANGE}\")")
        return None
    if version is None:
        # Family unknown (the CIDR is already reported): only flag what no family accepts.
        if not any(lo <= raw <= hi for lo, hi in BLOCK_SIZE_RANGE.values()):
            c.report("CIP104", ("blockSize",), f"blockSize {raw} is out of range for both "
                     f'families (Calico: "{_CALICO_BLOCK_RANGE}")')
        return None
    lo, hi = BLOCK_SIZE_RANGE[version]
    if not lo <= raw <= hi:
        other = 6 if version == 4 else 4
        olo, ohi = BLOCK_SIZE_RANGE[other]
        aside = f" ({raw} is an IPv{other} block size)" if olo <= raw <= ohi else ""
        c.report("CIP104", ("blockSize",), f"blockSize {raw} is out of range: IPv{version} "
                 f"block size must be between {lo} and {hi}{aside} "
                 f'(Calico: "{_CALICO_BLOCK_RANGE}")')
        return None
    return raw


def _check_pool_size(c: _Checker, spec: Mapping, network: netaddr.IPNetwork,
                     block_size: int) -> None:
    if spec.get("disabled") is True:
        return  # Calico skips this check for disabled pools.
    if network.prefixlen <= block_size:
        return
    defaulted = spec.get("blockSize") in (None, 0)
    block_text = (f"blockSize {block_size}" + (f", the IPv{network.version} default" if defaulted
                                                else ""))
    c.report("CIP105", ("blockSize",) if not defaulted else ("cidr",),
             f"cidr {network} ({network.size} addresses) is smaller than one block "
             f"({block_text}: {1 << ((32 if network.version == 4 else 128) - block_size)} "
             f"addresses); set blockSize: {network.prefixlen} or larger, or use a larger CIDR "
             f'(Calico: "{_CALICO_POOL_TOO_SMALL}")')


def _check_modes(c: _Checker, spec: Mapping) -> dict[str, str | None]:
    """Effective ipipMode/vxlanMode (None when invalid)."""
    modes: dict[str, str | None] = {}
    for field in ("ipipMode", "vxlanMode"):
        raw = spec.get(field)
        if raw is None or raw == "":
            modes[field] = "Never"
        elif not isinstance(raw, str):
            modes[field] = None
            c.report("CIP108", (field,), f"{field} {_show(raw)} is a {_kind(raw)}, not one of "
                     "Never, Always or CrossSubnet"
                     + (" (YAML read the unquoted word as a boolean)" if isinstance(raw, bool)
                        else ""))
        elif raw not in ENCAPSULATION_MODES:
            modes[field] = None
            c.report("CIP108", (field,), f"{field} {_show(raw)} is not valid: use Never, Always "
                     f"or CrossSubnet, spelled exactly (case-sensitive)"
                     + _did_you_mean(raw, ENCAPSULATION_MODES)
                     + f" (Calico: 'Unsupported value: {_show(raw)}: supported values: "
                     "\"Always\", \"CrossSubnet\", \"Never\"')")
        else:
            modes[field] = raw
    return modes


def _check_encapsulation(c: _Checker, modes: Mapping[str, str | None],
                         version: int | None) -> None:
    ipip, vxlan = modes["ipipMode"], modes["vxlanMode"]
    if ipip in ENABLED_MODES and vxlan in ENABLED_MODES:
        c.report("CIP107", ("vxlanMode",), f"ipipMode {ipip} and vxlanMode {vxlan} are both "
                 "enabled; choose one encapsulation and set the other to Never "
                 '(Calico: "Cannot enable both VXLAN and IPIP on the same IPPool")')
    if version == 6 and ipip in ENABLED_MODES:
        c.report("CIP106", ("ipipMode",), f"ipipMode {ipip} on an IPv6 pool: IPIP carries only "
                 "IPv4; use vxlanMode for IPv6 or set ipipMode: Never "
                 '(Calico: "IPIP is not supported on an IPv6 IP pool")')


def _check_bools(c: _Checker, spec: Mapping) -> None:
    for field in _BOOL_FIELDS:
        raw = spec.get(field)
        if raw is None or isinstance(raw, bool):
            continue
        hint = ""
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            hint = f"; write it without quotes: {field}: {raw.lower()}"
        c.report("CIP002", (field,), f"{field} {_show(raw)} is a {_kind(raw)}, not true or "
                 f"false{hint}")


def _check_allowed_uses(c: _Checker, spec: Mapping) -> list[str] | None:
    """The explicit allowedUses (valid entries, in order); None when omitted or empty."""
    raw = spec.get("allowedUses")
    if raw is None:
        return None
    if isinstance(raw, str) or not isinstance(raw, (list, tuple)):
        hint = f"; write it as a list: allowedUses: [{raw}]" if isinstance(raw, str) else ""
        c.report("CIP109", ("allowedUses",), f"allowedUses {_show(raw)} is a {_kind(raw)}, "
                 f"not a list of Workload, Tunnel or LoadBalancer{hint}")
        return None
    uses: list[str] = []
    for index, use in enumerate(raw):
        if not isinstance(use, str) or use not in ALLOWED_USES:
            hint = _did_you_mean(use, ALLOWED_USES) if isinstance(use, str) else ""
            c.report("CIP109", ("allowedUses", index), f"allowedUses entry {_show(use)} is not "
                     f"one of Workload, Tunnel or LoadBalancer (case-sensitive){hint} "
                     f'(Calico: "unknown use: {use}")')
        elif use in uses:
            c.report("CIP109", ("allowedUses", index), f"allowedUses lists {use} twice "
                     '(Calico CRD: allowedUses is a set: "Duplicate value")')
        else:
            uses.append(use)
    return uses or None


def _check_assignment_mode(c: _Checker, spec: Mapping) -> None:
    raw = spec.get("assignmentMode")
    if raw is None or raw in ASSIGNMENT_MODES:
        return
    if not isinstance(raw, str):
        c.report("CIP121", ("assignmentMode",), f"assignmentMode {_show(raw)} is a "
                 f"{_kind(raw)}, not Automatic or Manual")
        return
    c.report("CIP121", ("assignmentMode",), f"assignmentMode {_show(raw)} is not valid: use "
             "Automatic or Manual (case-sensitive), or leave it out for Automatic"
             + (_did_you_mean(raw, ASSIGNMENT_MODES) if raw else "")
             + f" (Calico: 'Unsupported value: {_show(raw)}: supported values: "
             "\"Automatic\", \"Manual\"')")


def _check_selector(c: _Checker, spec: Mapping, field: str) -> str | None:
    """The selector text when it is a non-empty string, else None."""
    raw = spec.get(field)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        c.report("CIP116", (field,), f"{field} {_show(raw)} is a {_kind(raw)}, not a selector "
                 "string such as \"zone == 'a'\"")
        return None
    if len(raw) > SELECTOR_MAX_LENGTH:
        c.report("CIP116", (field,), f"{field} is {len(raw)} characters long; the IPPool CRD "
                 f"allows at most {SELECTOR_MAX_LENGTH}")
        return raw
    if "global(" in raw:
        c.report("CIP115", (field,), f"{field} {_show(raw)} uses global(), which IPPools do "
                 f"not support; use all() instead (Calico: \"global() selector is not valid "
                 f'for IPPool {field} - use all() instead")')
        return raw
    try:
        parse_selector(raw)
    except SelectorError as error:
        c.report("CIP116", (field,), f"{field} {_show(raw, 200)} is not a valid selector: "
                 f"{error}")
    except RecursionError:
        c.report("CIP116", (field,), f"{field} nests parentheses too deeply to be a usable "
                 "selector")
    return raw


def _check_load_balancer(c: _Checker, spec: Mapping, uses: list[str],
                         modes: Mapping[str, str | None]) -> None:
    raw_uses = spec.get("allowedUses")
    for other in (u for u in uses if u != "LoadBalancer"):
        index = raw_uses.index(other) if isinstance(raw_uses, list) else 0
        c.report("CIP110", ("allowedUses", index), f"allowedUses {_show(uses)} combines "
                 f"LoadBalancer with {other}: a LoadBalancer pool serves Service IPs only, put "
                 f"{other} addresses in a separate pool (Calico: \"LoadBalancer cannot be used "
                 f'at the same time as: {other}")')
    for field in ("ipipMode", "vxlanMode"):
        if modes[field] in ENABLED_MODES:
            c.report("CIP111", (field,), f"{field} {modes[field]} on a LoadBalancer pool: "
                     "Service IPs are not encapsulated, set it to Never (Calico: \"LoadBalancer "
                     'IP pool cannot have IPIP or VXLAN enabled")')
    if spec.get("disableBGPExport") is True:
        c.report("CIP112", ("disableBGPExport",), "disableBGPExport true on a LoadBalancer "
                 "pool: its Service IPs are reachable only when advertised over BGP "
                 '(Calico: "LoadBalancer IP pools cannot disable BGP export")')
    node_selector = spec.get("nodeSelector")
    if isinstance(node_selector, str) and node_selector not in ("", DEFAULT_NODE_SELECTOR):
        c.report("CIP113", ("nodeSelector",), f"nodeSelector {_show(node_selector)} on a "
                 "LoadBalancer pool: it must be exactly all() (or left out) "
                 '(Calico: "IP Pool with AllowedUse LoadBalancer must have nodeSelector set '
                 'to all()")')


def _check_namespace_selector_uses(c: _Checker, spec: Mapping, uses: list[str] | None,
                                   namespace_selector: str | None) -> None:
    if namespace_selector is None:
        return
    calico = ("IP Pool with AllowedUse Tunnel cannot have namespaceSelector specified - "
              "tunnel IPs are not namespaced resources")
    if uses is None:
        # clientv3 defaults allowedUses to [Workload, Tunnel] before validating (ref §6.1).
        c.report("CIP122", ("namespaceSelector",), "namespaceSelector is set but allowedUses "
                 "is left out, so Calico defaults it to [Workload, Tunnel] and calicoctl and "
                 "the Calico API server refuse the pool; set allowedUses: [Workload] "
                 f'(Calico: "{calico}")')
    elif "Tunnel" in uses:
        raw_uses = spec.get("allowedUses")
        index = raw_uses.index("Tunnel") if isinstance(raw_uses, list) else 0
        c.report("CIP114", ("allowedUses", index), f"allowedUses {_show(uses)} includes Tunnel "
                 "together with a namespaceSelector; tunnel addresses belong to nodes, not "
                 f'namespaces: drop Tunnel or the namespaceSelector (Calico: "{calico}")')


def _check_link_local(c: _Checker, network: netaddr.IPNetwork) -> None:
    link_local = LINK_LOCAL[network.version]
    if network in link_local or link_local in network:
        relation = ("is the link-local range" if network == link_local else
                    "lies inside the link-local range" if network in link_local else
                    "contains the link-local range")
        family = f"IPv{network.version}"
        c.report("CIP117", ("cidr",), f"cidr {network} {relation} {link_local}, which nodes "
                 f'use for themselves (Calico: "IPPool CIDR overlaps with {family} Link Local '
                 f'range {link_local}")')


def _check_deprecated(c: _Checker, spec: Mapping) -> None:
    ipip = spec.get("ipip")
    if ipip is not None:
        c.report("CIP118", ("ipip",), f"the deprecated field ipip is set to {_show(ipip)}; "
                 "Calico requires it unset (validator: mustBeNil) and v3.32 removed it: use "
                 "ipipMode: Always or CrossSubnet instead")
    nat = spec.get("nat-outgoing")
    if nat is not None and nat is not False:
        c.report("CIP118", ("nat-outgoing",), f"the deprecated field nat-outgoing is set to "
                 f"{_show(nat)}; Calico requires it false (validator: mustBeFalse) and v3.32 "
                 "removed it: use natOutgoing: true instead")


# --------------------------------------------------------------------------
# Public API.

def validate_pool(name: str, spec: Mapping, metadata: Mapping | None = None, *,
                  locate: Locate | None = None, stack: str | None = None) -> list[Finding]:
    """Every Calico rule for one IPPool; valid means no finding of severity error.

    ``locate(path)`` maps a path inside the spec, e.g. ``("blockSize",)`` or
    ``("allowedUses", 1)``, or a metadata path ``("metadata", "labels", key)``, to a
    Location. Without it findings point at ``spec.<path>`` / ``metadata.<path>``.
    Never raises: wrong Python types are findings.
    """
    c = _Checker(name, locate, stack)
    _check_name(c)
    _check_metadata(c, metadata)
    if not isinstance(spec, Mapping):
        c.report("CIP002", (), f"the IPPool spec must be a mapping of fields such as cidr and "
                 f"blockSize, not a {_kind(spec)}")
        return c.findings
    _check_unknown_fields(c, spec)
    _check_deprecated(c, spec)
    network = _check_cidr(c, spec)
    version = network.version if network is not None else None
    block_size = _check_block_size(c, spec, version)
    if network is not None and block_size is not None:
        _check_pool_size(c, spec, network, block_size)
    if network is not None:
        _check_link_local(c, network)
    modes = _check_modes(c, spec)
    _check_encapsulation(c, modes, version)
    _check_bools(c, spec)
    uses = _check_allowed_uses(c, spec)
    _check_assignment_mode(c, spec)
    _check_selector(c, spec, "nodeSelector")
    namespace_selector = _check_selector(c, spec, "namespaceSelector")
    if uses and "LoadBalancer" in uses:
        _check_load_balancer(c, spec, uses, modes)
    _check_namespace_selector_uses(c, spec, uses, namespace_selector)
    return c.findings


def apply_defaults(spec: Mapping) -> PoolSpec:
    """The spec as Calico stores and reads it back, every default applied.

    Defaults (clientv3 validateAndSetDefaults / convertIpPoolFromStorage): blockSize
    0 or absent -> 26 (IPv4) / 122 (IPv6); ipipMode, vxlanMode "" or absent -> Never;
    nodeSelector "" or absent -> all(); allowedUses empty or absent -> [Workload,
    Tunnel]; assignmentMode absent -> Automatic; booleans absent -> false. The CIDR
    is written in canonical form (IPv6 compressed, lower case).

    Precondition: ``spec`` passed ``validate_pool`` without errors. A spec whose CIDR
    cannot be parsed raises ValueError; other invalid values are not re-checked.
    """
    raw_cidr = spec.get("cidr")
    network, problem = _parse_cidr(raw_cidr) if isinstance(raw_cidr, str) else (None, "missing")
    if network is None:
        raise ValueError(f"apply_defaults needs a spec that passed validate_pool: cidr "
                         f"{_show(raw_cidr)} {problem}")
    block_size = spec.get("blockSize") or DEFAULT_BLOCK_SIZE[network.version]
    uses = spec.get("allowedUses") or DEFAULT_ALLOWED_USES
    assignment_mode = spec.get("assignmentMode")
    return PoolSpec(
        cidr=_masked_cidr(raw_cidr)[1],
        block_size=int(block_size),
        ipip_mode=spec.get("ipipMode") or "Never",
        vxlan_mode=spec.get("vxlanMode") or "Never",
        nat_outgoing=spec.get("natOutgoing") is True,
        disabled=spec.get("disabled") is True,
        disable_bgp_export=spec.get("disableBGPExport") is True,
        node_selector=spec.get("nodeSelector") or DEFAULT_NODE_SELECTOR,
        namespace_selector=spec.get("namespaceSelector") or "",
        allowed_uses=tuple(uses),
        assignment_mode="Automatic" if assignment_mode is None else assignment_mode,
    )


def validated_pool(name: str, spec: Mapping, metadata: Mapping | None = None, *,
                   locate: Callable[[tuple], Location] | None = None,
                   stack: str | None = None,
                   location: Location = Location()) -> tuple[Pool | None, list[Finding]]:
    """``validate_pool``'s findings and, when none is an error, the Pool with
    defaults applied: one validation serves both the stack loader and check."""
    findings = validate_pool(name, spec, metadata, locate=locate, stack=stack)
    if has_errors(findings):
        return None, findings
    metadata = metadata or {}
    pool = Pool(name=name, spec=apply_defaults(spec),
                labels=frozen_map(metadata.get("labels")),
                annotations=frozen_map(metadata.get("annotations")),
                stack=stack, location=location)
    return pool, findings


def pool_from_spec(name: str, spec: Mapping, metadata: Mapping | None = None, *,
                   stack: str | None = None, location: Location = Location()) -> Pool | None:
    """The Pool with defaults applied, or None when ``validate_pool`` reports an error."""
    return validated_pool(name, spec, metadata, stack=stack, location=location)[0]
