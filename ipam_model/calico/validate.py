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

from collections.abc import Mapping
from typing import Any, Callable

from ..core.cidr import LINK_LOCAL, Cidr, cidr_problem, parse_cidr
from ..core.errors import CIP002
from ..core.ippool import BLOCK_SIZE_RANGE, DEFAULT_BLOCK_SIZE, DEFAULT_NODE_SELECTOR
from ..core.model import Finding, Location, Pool, frozen_map, has_errors
from ..core.rules import CALICO, E, Help, Rule, Scope, W
from ..core.words import a_kind, did_you_mean, kind, name_label, show
from .ippool import BOOL_FIELDS, DEPRECATED_FIELDS, SPEC_FIELDS, apply_defaults
from .names import (
    CALICO_NAME,
    NAME_MAX_LENGTH,
    NAME_RE,
    byte_len,
    label_value_problems,
    name_hint,
    qualified_name_problems,
)
from .selector import SelectorError, parse_selector

CIP101 = Rule("CIP101", "cidr-required", E,
              "IPPool CIDR must be specified (R1).",
              CALICO, scope=Scope.POOL,
              help=Help("Calico refuses a pool without a CIDR; written through "
                        "crd.projectcalico.org/v1 it may be stored and leave a pool no node can "
                        "allocate from.",
                        "Give the pool a `cidr`, e.g. `cidr: 10.244.0.0/16`.",
                        calico=("libcalico-go/lib/clientv3/ippool.go:364",
                                "libcalico-go/lib/validator/v3/validator.go:979")))
CIP102 = Rule("CIP102", "cidr-invalid", E,
              "IPPool CIDR must be a valid subnet, prefix within /32 or /128 (R1, R19).",
              CALICO, scope=Scope.POOL,
              help=Help("Calico cannot parse the value as a subnet and refuses the pool "
                        "(through crd.projectcalico.org/v1 it is stored anyway and never used).",
                        "Write an IPv4 or IPv6 network in CIDR notation with a prefix of at "
                        "most /32 or /128, e.g. `10.244.0.0/16` or `fd00:10:244::/64`.",
                        calico=("libcalico-go/lib/clientv3/ippool.go:375",
                                "libcalico-go/lib/validator/v3/validator.go:986")))
CIP103 = Rule("CIP103", "cidr-not-masked", E,
              "IPPool CIDR must be strictly masked: host bits zero (R2).",
              CALICO, scope=Scope.POOL,
              help=Help("Calico rejects a CIDR with host bits set instead of masking it: which "
                        "network was meant (10.244.0.0/16 for 10.244.1.0/16?) is not clear.",
                        "Write the network address with the host bits cleared; the message "
                        "names the masked CIDR.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:95",
                                "libcalico-go/lib/clientv3/ippool.go:490",
                                "libcalico-go/lib/validator/v3/validator.go:99")))
CIP104 = Rule("CIP104", "block-size-range", E,
              "blockSize must be 20-32 for IPv4 and 116-128 for IPv6 (R3).",
              CALICO, scope=Scope.POOL,
              help=Help("Calico hands out addresses in blocks of this prefix length and refuses "
                        "any other size; blockSize can never change later without a migration.",
                        "Use 20-32 for IPv4 (default 26: 64 addresses per block) or 116-128 for "
                        "IPv6 (default 122); check recommends a size for the declared load "
                        "(CIP507).",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:98",
                                "api/pkg/apis/projectcalico/v3/ippool.go:126")))
CIP105 = Rule("CIP105", "pool-smaller-than-block", E,
              "An enabled pool must be at least as large as one block (R4).",
              CALICO, scope=Scope.POOL,
              help=Help("A pool smaller than one block cannot hold a block, so Calico refuses "
                        "it while it is enabled.",
                        "Make the pool's prefix no longer than its blockSize (a /26 pool or "
                        "larger for /26 blocks), or raise blockSize.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:99",)))
CIP106 = Rule("CIP106", "ipip-on-ipv6", E,
              "IPIP is not supported on IPv6 pools (R5).",
              CALICO, scope=Scope.POOL,
              help=Help("IP-in-IP carries IPv4 only; Calico refuses an IPv6 pool with ipipMode "
                        "enabled.",
                        "Set `ipipMode: Never` on the IPv6 pool; use `vxlanMode` if it needs "
                        "encapsulation.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:89",)))
CIP107 = Rule("CIP107", "ipip-and-vxlan", E,
              "ipipMode and vxlanMode cannot both be enabled (R6).",
              CALICO, scope=Scope.POOL,
              help=Help("A pool uses one encapsulation; Calico refuses one with both IPIP and "
                        "VXLAN enabled.",
                        "Set one of `ipipMode` and `vxlanMode` to `Never`.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:86",)))
CIP108 = Rule("CIP108", "encapsulation-mode-invalid", E,
              "ipipMode/vxlanMode must be Never, Always or CrossSubnet, case-sensitive (R7).",
              CALICO, scope=Scope.POOL,
              help=Help("Calico accepts only these exact values (`never` in lower case is "
                        "refused), so the pool would not be created.",
                        "Write `Never`, `Always` or `CrossSubnet`, capitalised as shown.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:177",
                                "api/pkg/apis/projectcalico/v3/ippool.go:191")))
CIP109 = Rule("CIP109", "allowed-use-invalid", E,
              "allowedUses entries must be Workload, Tunnel or LoadBalancer (R8).",
              CALICO, scope=Scope.POOL,
              help=Help("Calico refuses an unknown use; through crd.projectcalico.org/v1 "
                        "nothing would allocate from the pool for it.",
                        "List only `Workload`, `Tunnel` and `LoadBalancer`.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:160",
                                "libcalico-go/lib/validator/v3/validator.go:1003")))
CIP110 = Rule("CIP110", "loadbalancer-exclusive", E,
              "LoadBalancer cannot be combined with Workload or Tunnel (R9).",
              CALICO, scope=Scope.POOL,
              help=Help("LoadBalancer pools hold Service addresses and must not give addresses "
                        "to pods or tunnels; Calico refuses the combination.",
                        "Use `allowedUses: [LoadBalancer]` alone, and another pool for Workload "
                        "and Tunnel.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:88",)))
CIP111 = Rule("CIP111", "loadbalancer-encapsulation", E,
              "A LoadBalancer pool cannot have IPIP or VXLAN enabled (R10).",
              CALICO, scope=Scope.POOL,
              help=Help("Service addresses are advertised, not tunnelled; Calico refuses a "
                        "LoadBalancer pool with IPIP or VXLAN enabled.",
                        "Set `ipipMode: Never` and `vxlanMode: Never` on the LoadBalancer pool.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:87",)))
CIP112 = Rule("CIP112", "loadbalancer-bgp-export", E,
              "A LoadBalancer pool cannot disable BGP export (R11).",
              CALICO, scope=Scope.POOL,
              help=Help("A LoadBalancer address is reachable only when BGP advertises it; "
                        "Calico refuses `disableBGPExport: true` on such a pool.",
                        "Remove `disableBGPExport` (or set it to false) on the LoadBalancer "
                        "pool.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:90",)))
CIP113 = Rule("CIP113", "loadbalancer-node-selector", E,
              "A LoadBalancer pool must have nodeSelector exactly all() (R12).",
              CALICO, scope=Scope.POOL,
              help=Help("Calico assigns LoadBalancer addresses cluster-wide and refuses any "
                        "nodeSelector but the literal `all()`.",
                        "Remove the pool's `nodeSelector` (it defaults to `all()`) or write "
                        "`all()`.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:91",)))
CIP114 = Rule("CIP114", "tunnel-namespace-selector", E,
              "A pool allowing Tunnel cannot have a namespaceSelector (R13).",
              CALICO, scope=Scope.POOL,
              help=Help("Tunnel addresses belong to nodes, not namespaces; Calico refuses a "
                        "namespaceSelector on a pool that allows Tunnel.",
                        "Set `allowedUses: [Workload]` on the pool with the namespaceSelector, "
                        "or drop the selector.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:92",)))
CIP115 = Rule("CIP115", "global-selector", E,
              "nodeSelector/namespaceSelector must not use global() (R14).",
              CALICO, scope=Scope.POOL,
              help=Help("`global()` means nothing for pool selection and Calico refuses it.",
                        "Use `all()` to select everything, or a label expression.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:93",
                                "api/pkg/apis/projectcalico/v3/ippool.go:94")))
CIP116 = Rule("CIP116", "selector-syntax", E,
              "nodeSelector/namespaceSelector must be a valid Calico selector, at most 1024 "
              "characters (R15).",
              CALICO, scope=Scope.POOL,
              help=Help("Calico refuses a selector it cannot parse; an Automatic pool with a "
                        "broken selector is never chosen.",
                        "Write a Calico selector such as `zone == 'a'` or `has(gpu)`, at most "
                        "1024 characters; the message points at what failed to parse.",
                        calico=("libcalico-go/lib/validator/v3/validator.go:193",
                                "libcalico-go/lib/validator/v3/validator.go:453",
                                "api/pkg/apis/projectcalico/v3/ippool.go:135",
                                "api/pkg/apis/projectcalico/v3/ippool.go:140")))
CIP117 = Rule("CIP117", "link-local-overlap", E,
              "A pool must not overlap 169.254.0.0/16 or fe80::/10 (R16).",
              CALICO, scope=Scope.POOL,
              help=Help("169.254.0.0/16 and fe80::/10 are used on every link (cloud metadata "
                        "services among them); Calico refuses pools that touch them.",
                        "Move the pool out of the link-local ranges.",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:96",
                                "api/pkg/apis/projectcalico/v3/ippool.go:97")))
CIP118 = Rule("CIP118", "deprecated-field", E,
              "Deprecated ipip/nat-outgoing fields must be unset (R17).",
              CALICO, scope=Scope.POOL,
              help=Help("`ipip` and `nat-outgoing` are Calico v1 fields; Calico refuses them on "
                        "v3 pools and they do nothing where accepted.",
                        "Replace `ipip` with `ipipMode` and `nat-outgoing` with `natOutgoing`.",
                        calico=("libcalico-go/lib/validator/v3/validator.go:197",
                                "libcalico-go/lib/validator/v3/validator.go:198")))
CIP119 = Rule("CIP119", "pool-name-invalid", E,
              "Pool names are DNS-1123 subdomains: lower case, digits, '-' and '.', at most 253 "
              "(R18).",
              CALICO, scope=Scope.POOL,
              help=Help("The pool name is the Kubernetes object name; the API server and Calico "
                        "refuse a name that is not a DNS-1123 subdomain, so pulumi up fails.",
                        "Use lower-case letters, digits, '-' and '.', starting and ending with "
                        "a letter or digit, at most 253 characters.",
                        calico=("libcalico-go/lib/validator/v3/validator.go:64",
                                "libcalico-go/lib/validator/v3/validator.go:374")))
CIP120 = Rule("CIP120", "metadata-invalid", E,
              "Labels and annotations must be valid Kubernetes keys and values, annotations at "
              "most 256 KiB (R18).",
              CALICO, scope=Scope.POOL,
              help=Help("The API server refuses the object, so pulumi up fails part-way.",
                        "Use keys of the form `prefix/name` (name at most 63 characters), label "
                        "values of at most 63 characters, and keep all annotations under 256 "
                        "KiB.",
                        calico=("libcalico-go/lib/validator/v3/validator.go:1633",
                                "libcalico-go/lib/validator/v3/validator.go:1659")))
CIP121 = Rule("CIP121", "assignment-mode-invalid", E,
              "assignmentMode must be Automatic or Manual.",
              CALICO, scope=Scope.POOL,
              help=Help("Calico accepts only Automatic and Manual and refuses the pool "
                        "otherwise.",
                        "Write `assignmentMode: Automatic` (the default) or `Manual` (only "
                        "explicit requests use the pool).",
                        calico=("api/pkg/apis/projectcalico/v3/ippool.go:210",)))
CIP122 = Rule("CIP122", "namespace-selector-default-uses", W,
              "A namespaceSelector with defaulted allowedUses [Workload, Tunnel] trips R13: set "
              "allowedUses: [Workload].",
              scope=Scope.POOL,
              help=Help("Calico's client defaults an empty allowedUses to [Workload, Tunnel] "
                        "before it validates, and then refuses the namespaceSelector because of "
                        "Tunnel (R13): calicoctl and the Calico API server would reject the "
                        "pool.",
                        "Write `allowedUses: [Workload]` next to the namespaceSelector.",
                        calico=("libcalico-go/lib/clientv3/ippool.go:411",
                                "api/pkg/apis/projectcalico/v3/ippool.go:92")))


__all__ = ["validate_pool", "validated_pool", "pool_from_spec", "ENCAPSULATION_MODES",
           "ALLOWED_USES", "ASSIGNMENT_MODES"]

ENCAPSULATION_MODES = ("Never", "Always", "CrossSubnet")
ENABLED_MODES = ("Always", "CrossSubnet")
ALLOWED_USES = ("Workload", "Tunnel", "LoadBalancer")
ASSIGNMENT_MODES = ("Automatic", "Manual")
SELECTOR_MAX_LENGTH = 1024          # CRD maxLength of nodeSelector/namespaceSelector
CIDR_MAX_LENGTH = 48                # CRD maxLength of cidr
ANNOTATIONS_MAX_BYTES = 256 * 1024  # validator totalAnnotationSizeLimitB


# Calico's own wording, quoted in messages so users can search for it.
_CALICO_CIDR_INVALID = "IPPool CIDR must be a valid subnet"
_CALICO_BLOCK_RANGE = ("blockSize must be between 20 and 32 for IPv4 pools, "
                       "and between 116 and 128 for IPv6 pools")
_CALICO_POOL_TOO_SMALL = ("IP pool size is too small for use with Calico IPAM. "
                          "It must be equal to or greater than the block size.")

Locate = Callable[[tuple], Location]


# --------------------------------------------------------------------------
# The checker: one pool, findings in the order a user would fix them.

class _Checker:
    def __init__(self, name: Any, locate: Locate | None, stack: str | None):
        self.name = name
        self.label = name_label(name)
        self.subject = f"pool/{name if isinstance(name, str) else show(name)}"
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

    def report(self, rule: Rule, path: tuple, message: str) -> None:
        self.findings.append(rule.finding(
            f"pool {self.label}: {message}", self.subject, self.where(path), stack=self.stack))


def _check_name(c: _Checker) -> None:
    name = c.name
    path = ("metadata", "name")
    if name is None:
        c.report(CIP119, path, f'the name is missing; every IPPool needs one (Calico: '
                 f'"{CALICO_NAME}")')
        return
    if not isinstance(name, str):
        c.report(CIP119, path, f"the name {show(name)} is {a_kind(name)}, not a string "
                 f'(Calico: "{CALICO_NAME}")')
        return
    if name == "":
        c.report(CIP119, path, f'the name is empty; every IPPool needs one (Calico: '
                 f'"{CALICO_NAME}")')
        return
    over = byte_len(name) - NAME_MAX_LENGTH
    if over > 0:
        c.report(CIP119, path, f"the name is {byte_len(name)} bytes long, at most "
                 f"{NAME_MAX_LENGTH} are allowed (Calico: \"name is too long by {over} bytes\")")
    if not NAME_RE.fullmatch(name):
        reasons = []
        if any("A" <= ch <= "Z" for ch in name):
            reasons.append("upper-case letters")
        bad = sorted({ch for ch in name if not ("a" <= ch <= "z" or "0" <= ch <= "9"
                                                   or ch in "-." or "A" <= ch <= "Z")})
        if bad:
            reasons.append("the character(s) " + " ".join(show(ch) for ch in bad))
        if name[0] in "-." or name[-1] in "-.":
            reasons.append("must start and end with a letter or digit")
        if ".." in name or ".-" in name or "-." in name:
            reasons.append("each dot-separated part must start and end with a letter or digit")
        why = "; ".join(reasons) or "not a DNS-1123 subdomain"
        hint = name_hint(name)
        c.report(CIP119, path, f"name {show(name)} is not a valid IPPool name ({why})"
                 + (f'; did you mean "{hint}"?' if hint else "")
                 + f' (Calico: "{CALICO_NAME}")')


def _check_metadata(c: _Checker, metadata: Any) -> None:
    if metadata is None:
        return
    if not isinstance(metadata, Mapping):
        c.report(CIP120, ("metadata",), f"metadata must be a mapping with labels and "
                 f"annotations, not {a_kind(metadata)}")
        return
    labels = metadata.get("labels")
    if labels is not None:
        if not isinstance(labels, Mapping):
            c.report(CIP120, ("metadata", "labels"),
                     f"labels must be a mapping of key: value, not {a_kind(labels)}")
        else:
            for key, value in labels.items():
                path = ("metadata", "labels", key)
                if not isinstance(key, str):
                    c.report(CIP120, path, f"label key {show(key)} is {a_kind(key)}; "
                             "label keys are strings")
                    continue
                for problem in qualified_name_problems(key):
                    c.report(CIP120, path, f"label key {show(key)} is not a valid "
                             f'Kubernetes label key (Calico: "{problem}")')
                if not isinstance(value, str):
                    c.report(CIP120, path, f"label {key} has the {kind(value)} value "
                             f"{show(value)}; label values are strings, quote it: "
                             f"{key}: \"{value if value is not None else ''}\"")
                    continue
                for problem in label_value_problems(value):
                    c.report(CIP120, path, f"label {key} has the value {show(value)}, "
                             f'which is not a valid label value (Calico: "{problem}")')
    annotations = metadata.get("annotations")
    if annotations is not None:
        if not isinstance(annotations, Mapping):
            c.report(CIP120, ("metadata", "annotations"),
                     f"annotations must be a mapping of key: value, not {a_kind(annotations)}")
            return
        total = 0
        for key, value in annotations.items():
            path = ("metadata", "annotations", key)
            if not isinstance(key, str):
                c.report(CIP120, path, f"annotation key {show(key)} is {a_kind(key)}; "
                         "annotation keys are strings")
                continue
            # Calico lower-cases annotation keys before the qualified-name check.
            for problem in qualified_name_problems(key.lower()):
                c.report(CIP120, path, f"annotation key {show(key)} is not a valid "
                         f'Kubernetes annotation key (Calico: "{problem}")')
            if not isinstance(value, str):
                c.report(CIP120, path, f"annotation {key} has the {kind(value)} value "
                         f"{show(value)}; annotation values are strings, quote it")
                total += byte_len(key)
                continue
            total += byte_len(key) + byte_len(value)
        if total > ANNOTATIONS_MAX_BYTES:
            c.report(CIP120, ("metadata", "annotations"),
                     f"annotations total {total} bytes, more than the {ANNOTATIONS_MAX_BYTES} "
                     f"bytes (256 KiB) Kubernetes allows (Calico: \"total size of annotations "
                     f"is too large by {total - ANNOTATIONS_MAX_BYTES} bytes\")")


def _check_unknown_fields(c: _Checker, spec: Mapping) -> None:
    for key in spec:
        if isinstance(key, str) and key in SPEC_FIELDS:
            continue
        if not isinstance(key, str):
            c.report(CIP002, (key,), f"the IPPool spec has the {kind(key)} key "
                     f"{show(key)}; field names are strings such as \"cidr\"")
            continue
        c.report(CIP002, (key,), f"unknown field {show(key)} in the IPPool spec"
                 + did_you_mean(key, SPEC_FIELDS[:-len(DEPRECATED_FIELDS)])
                 + (" (Calico would reject it, or silently drop it on a raw CRD write)"))


def _check_cidr(c: _Checker, spec: Mapping) -> Cidr | None:
    """The pool's network, masked, or None when the CIDR is missing or unusable."""
    raw = spec.get("cidr")
    if raw is None or raw == "":
        c.report(CIP101, ("cidr",), 'cidr is missing; every IPPool needs one, e.g. '
                 'cidr: 10.244.0.0/16 (Calico: "IPPool CIDR must be specified")')
        return None
    if not isinstance(raw, str):
        c.report(CIP102, ("cidr",), f"cidr {show(raw)} is {a_kind(raw)}, not a CIDR "
                 f'string such as "10.244.0.0/16" (Calico: "{_CALICO_CIDR_INVALID}")')
        return None
    network = parse_cidr(raw)
    if network is None:
        c.report(CIP102, ("cidr",), f'cidr {show(raw)} {cidr_problem(raw)} (Calico: '
                 f'"{_CALICO_CIDR_INVALID}")')
        return None
    if len(raw) > CIDR_MAX_LENGTH:
        c.report(CIP102, ("cidr",), f"cidr {show(raw)} is {len(raw)} characters long; the "
                 f"IPPool CRD allows at most {CIDR_MAX_LENGTH}: write it as {network.text}")
    if not network.masked:
        c.report(CIP103, ("cidr",), f"cidr {raw} has host bits set: did you mean "
                 f"{network.text}? Calico rejects it rather than masking it "
                 f'(Calico: "IPPool CIDR is not strictly masked")')
    return network


def _check_block_size(c: _Checker, spec: Mapping, version: int | None) -> int | None:
    """The effective block size (defaults applied), or None when it is unusable."""
    raw = spec.get("blockSize")
    if raw is None or (raw == 0 and isinstance(raw, int) and not isinstance(raw, bool)):
        return DEFAULT_BLOCK_SIZE.get(version) if version else None
    if isinstance(raw, bool) or not isinstance(raw, int):
        hint = ""
        # ASCII digits only: "²".isdigit() is true, and int("²") fails (issue 9)
        if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
            hint = f"; write it without quotes: blockSize: {int(raw.strip())}"
        elif isinstance(raw, float) and raw.is_integer():
            hint = f"; write it as a whole number: blockSize: {int(raw)}"
        c.report(CIP104, ("blockSize",), f"blockSize {show(raw)} is {a_kind(raw)}, not an "
                 f"integer{hint} (Calico: \"{_CALICO_BLOCK_RANGE}\")")
        return None
    if version is None:
        # Family unknown (the CIDR is already reported): only flag what no family accepts.
        if not any(lo <= raw <= hi for lo, hi in BLOCK_SIZE_RANGE.values()):
            c.report(CIP104, ("blockSize",), f"blockSize {raw} is out of range for both "
                     f'families (Calico: "{_CALICO_BLOCK_RANGE}")')
        return None
    lo, hi = BLOCK_SIZE_RANGE[version]
    if not lo <= raw <= hi:
        other = 6 if version == 4 else 4
        olo, ohi = BLOCK_SIZE_RANGE[other]
        aside = f" ({raw} is an IPv{other} block size)" if olo <= raw <= ohi else ""
        c.report(CIP104, ("blockSize",), f"blockSize {raw} is out of range: IPv{version} "
                 f"block size must be between {lo} and {hi}{aside} "
                 f'(Calico: "{_CALICO_BLOCK_RANGE}")')
        return None
    return raw


def _check_pool_size(c: _Checker, spec: Mapping, network: Cidr, block_size: int) -> None:
    if spec.get("disabled") is True:
        return  # Calico skips this check for disabled pools.
    if network.prefixlen <= block_size:
        return
    defaulted = spec.get("blockSize") in (None, 0)
    block_text = (f"blockSize {block_size}" + (f", the IPv{network.version} default" if defaulted
                                                else ""))
    c.report(CIP105, ("blockSize",) if not defaulted else ("cidr",),
             f"cidr {network.text} ({network.size} addresses) is smaller than one block "
             f"({block_text}: {1 << (network.bits - block_size)} "
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
            c.report(CIP108, (field,), f"{field} {show(raw)} is {a_kind(raw)}, not one of "
                     "Never, Always or CrossSubnet"
                     + (" (YAML read the unquoted word as a boolean)" if isinstance(raw, bool)
                        else ""))
        elif raw not in ENCAPSULATION_MODES:
            modes[field] = None
            c.report(CIP108, (field,), f"{field} {show(raw)} is not valid: use Never, Always "
                     f"or CrossSubnet, spelled exactly (case-sensitive)"
                     + did_you_mean(raw, ENCAPSULATION_MODES)
                     + f" (Calico: 'Unsupported value: {show(raw)}: supported values: "
                     "\"Always\", \"CrossSubnet\", \"Never\"')")
        else:
            modes[field] = raw
    return modes


def _check_encapsulation(c: _Checker, modes: Mapping[str, str | None],
                         version: int | None) -> None:
    ipip, vxlan = modes["ipipMode"], modes["vxlanMode"]
    if ipip in ENABLED_MODES and vxlan in ENABLED_MODES:
        c.report(CIP107, ("vxlanMode",), f"ipipMode {ipip} and vxlanMode {vxlan} are both "
                 "enabled; choose one encapsulation and set the other to Never "
                 '(Calico: "Cannot enable both VXLAN and IPIP on the same IPPool")')
    if version == 6 and ipip in ENABLED_MODES:
        c.report(CIP106, ("ipipMode",), f"ipipMode {ipip} on an IPv6 pool: IPIP carries only "
                 "IPv4; use vxlanMode for IPv6 or set ipipMode: Never "
                 '(Calico: "IPIP is not supported on an IPv6 IP pool")')


def _check_bools(c: _Checker, spec: Mapping) -> None:
    for field in BOOL_FIELDS:
        raw = spec.get(field)
        if raw is None or isinstance(raw, bool):
            continue
        hint = ""
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            hint = f"; write it without quotes: {field}: {raw.lower()}"
        c.report(CIP002, (field,), f"{field} {show(raw)} is {a_kind(raw)}, not true or "
                 f"false{hint}")


def _check_allowed_uses(c: _Checker, spec: Mapping) -> list[str] | None:
    """The explicit allowedUses (valid entries, in order); None when omitted or empty."""
    raw = spec.get("allowedUses")
    if raw is None:
        return None
    if isinstance(raw, str) or not isinstance(raw, (list, tuple)):
        hint = f"; write it as a list: allowedUses: [{raw}]" if isinstance(raw, str) else ""
        c.report(CIP109, ("allowedUses",), f"allowedUses {show(raw)} is {a_kind(raw)}, "
                 f"not a list of Workload, Tunnel or LoadBalancer{hint}")
        return None
    uses: list[str] = []
    for index, use in enumerate(raw):
        if not isinstance(use, str) or use not in ALLOWED_USES:
            hint = did_you_mean(use, ALLOWED_USES) if isinstance(use, str) else ""
            c.report(CIP109, ("allowedUses", index), f"allowedUses entry {show(use)} is not "
                     f"one of Workload, Tunnel or LoadBalancer (case-sensitive){hint} "
                     f'(Calico: "unknown use: {use}")')
        elif use in uses:
            c.report(CIP109, ("allowedUses", index), f"allowedUses lists {use} twice "
                     '(Calico CRD: allowedUses is a set: "Duplicate value")')
        else:
            uses.append(use)
    return uses or None


def _check_assignment_mode(c: _Checker, spec: Mapping) -> None:
    raw = spec.get("assignmentMode")
    if raw is None or raw in ASSIGNMENT_MODES:
        return
    if not isinstance(raw, str):
        c.report(CIP121, ("assignmentMode",), f"assignmentMode {show(raw)} is "
                 f"{a_kind(raw)}, not Automatic or Manual")
        return
    c.report(CIP121, ("assignmentMode",), f"assignmentMode {show(raw)} is not valid: use "
             "Automatic or Manual (case-sensitive), or leave it out for Automatic"
             + (did_you_mean(raw, ASSIGNMENT_MODES) if raw else "")
             + f" (Calico: 'Unsupported value: {show(raw)}: supported values: "
             "\"Automatic\", \"Manual\"')")


def _check_selector(c: _Checker, spec: Mapping, field: str) -> str | None:
    """The selector text when it is a non-empty string, else None."""
    raw = spec.get(field)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        c.report(CIP116, (field,), f"{field} {show(raw)} is {a_kind(raw)}, not a selector "
                 "string such as \"zone == 'a'\"")
        return None
    if len(raw) > SELECTOR_MAX_LENGTH:
        c.report(CIP116, (field,), f"{field} is {len(raw)} characters long; the IPPool CRD "
                 f"allows at most {SELECTOR_MAX_LENGTH}")
        return raw
    if "global(" in raw:
        c.report(CIP115, (field,), f"{field} {show(raw)} uses global(), which IPPools do "
                 f"not support; use all() instead (Calico: \"global() selector is not valid "
                 f'for IPPool {field} - use all() instead")')
        return raw
    try:
        parse_selector(raw)
    except SelectorError as error:
        c.report(CIP116, (field,), f"{field} {show(raw, 200)} is not a valid selector: "
                 f"{error}")
    except RecursionError:
        c.report(CIP116, (field,), f"{field} nests parentheses too deeply to be a usable "
                 "selector")
    return raw


def _check_load_balancer(c: _Checker, spec: Mapping, uses: list[str],
                         modes: Mapping[str, str | None]) -> None:
    raw_uses = spec.get("allowedUses")
    for other in (u for u in uses if u != "LoadBalancer"):
        index = raw_uses.index(other) if isinstance(raw_uses, list) else 0
        c.report(CIP110, ("allowedUses", index), f"allowedUses {show(uses)} combines "
                 f"LoadBalancer with {other}: a LoadBalancer pool serves Service IPs only, put "
                 f"{other} addresses in a separate pool (Calico: \"LoadBalancer cannot be used "
                 f'at the same time as: {other}")')
    for field in ("ipipMode", "vxlanMode"):
        if modes[field] in ENABLED_MODES:
            c.report(CIP111, (field,), f"{field} {modes[field]} on a LoadBalancer pool: "
                     "Service IPs are not encapsulated, set it to Never (Calico: \"LoadBalancer "
                     'IP pool cannot have IPIP or VXLAN enabled")')
    if spec.get("disableBGPExport") is True:
        c.report(CIP112, ("disableBGPExport",), "disableBGPExport true on a LoadBalancer "
                 "pool: its Service IPs are reachable only when advertised over BGP "
                 '(Calico: "LoadBalancer IP pools cannot disable BGP export")')
    node_selector = spec.get("nodeSelector")
    if isinstance(node_selector, str) and node_selector not in ("", DEFAULT_NODE_SELECTOR):
        c.report(CIP113, ("nodeSelector",), f"nodeSelector {show(node_selector)} on a "
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
        c.report(CIP122, ("namespaceSelector",), "namespaceSelector is set but allowedUses "
                 "is left out, so Calico defaults it to [Workload, Tunnel] and calicoctl and "
                 "the Calico API server refuse the pool; set allowedUses: [Workload] "
                 f'(Calico: "{calico}")')
    elif "Tunnel" in uses:
        raw_uses = spec.get("allowedUses")
        index = raw_uses.index("Tunnel") if isinstance(raw_uses, list) else 0
        c.report(CIP114, ("allowedUses", index), f"allowedUses {show(uses)} includes Tunnel "
                 "together with a namespaceSelector; tunnel addresses belong to nodes, not "
                 f'namespaces: drop Tunnel or the namespaceSelector (Calico: "{calico}")')


_LINK_LOCAL = {version: parse_cidr(text) for version, text in LINK_LOCAL.items()}


def _check_link_local(c: _Checker, network: Cidr) -> None:
    link_local = LINK_LOCAL[network.version]
    reserved = _LINK_LOCAL[network.version]
    if network.overlaps(reserved):
        relation = ("is the link-local range" if network == reserved else
                    "lies inside the link-local range" if reserved.contains(network) else
                    "contains the link-local range")
        family = f"IPv{network.version}"
        c.report(CIP117, ("cidr",), f"cidr {network.text} {relation} {link_local}, which "
                 f'nodes use for themselves (Calico: "IPPool CIDR overlaps with {family} Link '
                 f'Local range {link_local}")')


def _check_deprecated(c: _Checker, spec: Mapping) -> None:
    ipip = spec.get("ipip")
    if ipip is not None:
        c.report(CIP118, ("ipip",), f"the deprecated field ipip is set to {show(ipip)}; "
                 "Calico requires it unset (validator: mustBeNil) and v3.32 removed it: use "
                 "ipipMode: Always or CrossSubnet instead")
    nat = spec.get("nat-outgoing")
    if nat is not None and nat is not False:
        c.report(CIP118, ("nat-outgoing",), f"the deprecated field nat-outgoing is set to "
                 f"{show(nat)}; Calico requires it false (validator: mustBeFalse) and v3.32 "
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
        c.report(CIP002, (), f"the IPPool spec must be a mapping of fields such as cidr and "
                 f"blockSize, not {a_kind(spec)}")
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
