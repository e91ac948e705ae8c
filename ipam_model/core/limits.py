"""Every limit on what calico-ipam reads, in one place.

The loaders (``core.yaml_doc``, ``core.json_doc``, ``core.input_file``), the
schema, the CLI options and the cluster reader take their bounds from here,
and the README's "Limits" table is generated from ``LIMITS`` (a test compares
them), so the documented value is always the enforced one.

Each bound is chosen so that a real cluster never needs more and memory
always bears the most it lets in: Kubernetes documents clusters of at most
5,000 nodes, 150,000 pods and 110 pods per node
(https://kubernetes.io/docs/setup/best-practices/cluster-large/); managed
offerings go further (GKE: 65,000 nodes), so the counts allow several times
that.
"""
from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limit:
    """One bound: what it limits, its value and unit, and why that value."""

    name: str
    value: int | float
    unit: str
    why: str

    @property
    def text(self) -> str:
        """The value as the README and messages show it: ``8 MiB``, ``100 levels``."""
        if self.unit == "bytes":
            for size, suffix in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
                if self.value >= size and self.value % size == 0:
                    return f"{self.value // size:,} {suffix}"
            return f"{self.value:,} bytes"
        value = f"{self.value:g}" if isinstance(self.value, float) else f"{self.value:,}"
        return f"{value} {self.unit}"


# --------------------------------------------------------------------------- sizes

STACK_FILE_BYTES = Limit(
    "stack file, IPPool manifest file, kubeconfig", 8 * MiB, "bytes",
    "a stack file of 10,000 pools is about 1 MiB; read with a bounded read, whatever the "
    "file system says its size is")
SNAPSHOT_JSON_BYTES = Limit(
    "JSON snapshot (calico-ipam snapshot, kubectl -o json)", 2 * GiB, "bytes",
    "read as a stream, one object at a time: a 100,000-block cluster is about 100 MiB, and "
    "memory holds only what the plan keeps")
SNAPSHOT_YAML_BYTES = Limit(
    "YAML snapshot (kubectl -o yaml)", 32 * MiB, "bytes",
    "YAML is parsed whole (about 40 bytes of memory per byte of text, 1.3 GiB at the "
    "limit); larger clusters: calico-ipam snapshot or kubectl -o json")
JSON_OBJECT_BYTES = Limit(
    "one object of a JSON snapshot", 16 * MiB, "bytes",
    "Kubernetes stores objects of at most 1.5 MiB (etcd's request limit)")
API_PAGE_BYTES = Limit(
    "one page of a cluster list (500 objects)", 256 * MiB, "bytes",
    "500 of the largest objects the API server stores fit; counted as the server sends it")
ANNOTATION_JSON_BYTES = Limit(
    "JSON inside an annotation", 256 * KiB, "bytes",
    "the API server refuses annotations larger than 256 KiB in total "
    "(apimachinery TotalAnnotationSizeLimitB)")
CREDENTIAL_BYTES = Limit(
    "exec credential plugin output, token file", 1 * MiB, "bytes",
    "a token or a certificate and key pair is a few KiB")

# --------------------------------------------------------------------------- structure

MAX_DEPTH = Limit(
    "nesting depth of YAML and JSON", 100, "levels",
    "a stack file nests 6 levels, a Kubernetes object about 20; Python's own recursion "
    "stops near 1,000, the YAML C parser crashes beyond about 20,000")
STACK_VALUES = Limit(
    "values in a stack file, manifest file or kubeconfig after alias expansion", 250_000,
    "values",
    "a 10,000-pool stack holds about 100,000; refuses \"billion laughs\" alias bombs")
SNAPSHOT_VALUES = Limit(
    "values in a YAML snapshot after alias expansion", 5_000_000, "values",
    "a 32 MiB kubectl YAML list holds about 2,000,000")
INTEGER_DIGITS = Limit(
    "digits of an integer", 20, "digits",
    "Kubernetes and Calico integers are 64-bit (at most 20 digits); longer ones would "
    "hit Python's 4,300-digit conversion limit")

# --------------------------------------------------------------------------- counts

MAX_NODES = Limit(
    "nodes: nodeGroups[].count, their sum, simulate --nodes", 100_000, "nodes",
    "Kubernetes documents 5,000 nodes, GKE 65,000; a stack at this and the pod limit checks "
    "in about 20 s and 0.9 GiB (measured, 2 cores: 100,000 nodes and 1,000,000 pods in one /12 "
    "that the simulator must run)")
MAX_PODS = Limit(
    "pods: expectedPods, their sum per stack, simulate --pods and its sum", 1_000_000, "pods",
    "Kubernetes documents 150,000 pods per cluster, and 5,000 nodes at the kubelet's default "
    "of 110 pods hold 550,000; the forecast simulates every declared pod, so this bounds its "
    "time and memory (see nodes)")
MAX_PODS_PER_NODE = Limit(
    "nodeGroups[].maxPods", 10_000, "pods",
    "Kubernetes documents 110 pods per node, kubelet defaults to 110, the largest managed "
    "offerings allow a few hundred")
MAX_BLOCKS_PER_HOST = Limit(
    "maxBlocksPerHost", 1_000_000, "blocks",
    "Calico's own maximum (api/pkg/apis/projectcalico/v3/ipamconfig.go:73, "
    "kubebuilder:validation:Maximum=1000000)")
MAX_HEADROOM_PERCENT = Limit(
    "headroomPercent", 1_000, "percent", "ten times the expected pods is already absurd")

# --------------------------------------------------------------------------- cluster reads

DEFAULT_REQUEST_TIMEOUT = Limit(
    "one API request or exec credential plugin (--request-timeout)", 30.0, "seconds",
    "the default; bounds each network wait, each request as a whole (headers and body, so "
    "a server that drip-feeds bytes is cut off) and each run of an exec credential plugin")
MAX_REQUEST_TIMEOUT = Limit(
    "largest --request-timeout", 3_600.0, "seconds", "an hour for one request")
READ_DEADLINE = Limit(
    "a whole cluster read, retries included", 1_800.0, "seconds",
    "reading a 100,000-block cluster takes a few minutes")
MAX_PAGES = Limit(
    "pages of one list", 10_000, "pages",
    "5,000,000 objects at 500 a page; a server whose continue tokens never end is refused")
MAX_LIST_OBJECTS = Limit(
    "objects of one kind", 2_000_000, "objects",
    "100,000 nodes × 20 blocks each (Calico's default maxBlocksPerHost)")
CONTINUE_TOKEN_BYTES = Limit(
    "one continue token", 16 * KiB, "bytes",
    "Kubernetes continue tokens are a few hundred bytes (base64 of a key and a "
    "resourceVersion)")
PIPE_IDLE = Limit(
    "a pipe given to --snapshot (e.g. /dev/stdin) that sends nothing", 600.0, "seconds",
    "kubectl lists a large cluster in a minute or two before writing")

LIMITS = (STACK_FILE_BYTES, SNAPSHOT_JSON_BYTES, SNAPSHOT_YAML_BYTES, JSON_OBJECT_BYTES,
          API_PAGE_BYTES, ANNOTATION_JSON_BYTES, CREDENTIAL_BYTES, MAX_DEPTH, STACK_VALUES,
          SNAPSHOT_VALUES, INTEGER_DIGITS, MAX_NODES, MAX_PODS, MAX_PODS_PER_NODE,
          MAX_BLOCKS_PER_HOST, MAX_HEADROOM_PERCENT, DEFAULT_REQUEST_TIMEOUT,
          MAX_REQUEST_TIMEOUT, READ_DEADLINE, MAX_PAGES, MAX_LIST_OBJECTS,
          CONTINUE_TOKEN_BYTES, PIPE_IDLE)
