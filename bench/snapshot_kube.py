"""Snapshot a 1,000-node cluster from a fake Kubernetes API, against kubectl.

Serves a synthetic cluster on 127.0.0.1 (1,000 Nodes with a kubelet-sized
status, 2,000 IPAMBlocks of 64 addresses with 110 pods per node, 2,000 block
affinities, 3,000 namespaces, 20 IPPools, the IPAMConfig, no IPReservations) with ``limit`` /
``continue`` paging and the discovery documents kubectl needs, then measures,
alternating, in fresh processes against the same server:

(a) ``calico-ipam snapshot --kubeconfig KC --output FILE`` as a user runs it;
(b) ``kubectl get <the same seven lists> -o json --chunk-size=500 > FILE``, the
    way one dumps the same objects by hand (discovery cache warmed first, which
    favours kubectl).

Each is run once before the measured runs: kubectl fills its discovery cache,
calico-ipam its bytecode cache (kept in the temporary directory, so the
measured runs do not compile the sources, as an installed calico-ipam does
not, even where PYTHONDONTWRITEBYTECODE is set).

Prints the best of --repeat runs of each, their ratio (target: the snapshot
>= 5x faster) and the snapshot's peak RSS (target <= 256 MiB). Skips (b) and
says so when kubectl is not on PATH.

    python bench/snapshot_kube.py [--nodes 1000] [--repeat 3]

The server answers every page from bytes rendered once, so the two clients
are measured, not the fake server.
"""
from __future__ import annotations

import argparse
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
CRD = "crd.projectcalico.org"
PODS_PER_NODE, BLOCK = 110, 64  # two /26 blocks per node
RESOURCES = [  # (path, kind, plural) of the lists calico-ipam reads, all cluster-scoped
    (f"/apis/{CRD}/v1/ippools", "IPPool", "ippools"),
    (f"/apis/{CRD}/v1/ipamconfigs", "IPAMConfig", "ipamconfigs"),
    ("/api/v1/namespaces", "Namespace", "namespaces"),
    ("/api/v1/nodes", "Node", "nodes"),
    (f"/apis/{CRD}/v1/ipreservations", "IPReservation", "ipreservations"),
    (f"/apis/{CRD}/v1/blockaffinities", "BlockAffinity", "blockaffinities"),
    (f"/apis/{CRD}/v1/ipamblocks", "IPAMBlock", "ipamblocks"),
]
KUBECTL_RESOURCES = ",".join(f"{plural}.{CRD}" if path.startswith("/apis") else plural
                             for path, _, plural in RESOURCES)


def node(n: int) -> dict:
    """A Node as the API server returns it: labels, annotations and a status
    with conditions, capacity and an image list, like a kubelet reports."""
    name = f"node-{n:04d}"
    return {"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": name, "uid": f"uid-node-{n}", "resourceVersion": str(10_000 + n),
        "creationTimestamp": "2026-01-10T08:00:00Z",
        "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                   "topology.kubernetes.io/zone": f"zone-{n % 3}",
                   "node.kubernetes.io/instance-type": "m6i.2xlarge"},
        "annotations": {"projectcalico.org/IPv4Address": f"10.0.{n // 250}.{n % 250 + 1}/16",
                        "node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {"podCIDR": f"10.{200 + n // 256}.{n % 256}.0/24"},
        "status": {
            "addresses": [{"type": "InternalIP", "address": f"10.0.{n // 250}.{n % 250 + 1}"},
                          {"type": "Hostname", "address": name}],
            "capacity": {"cpu": "8", "memory": "32386544Ki", "pods": "110"},
            "allocatable": {"cpu": "7910m", "memory": "31235568Ki", "pods": "110"},
            "conditions": [{"type": t, "status": "False" if t != "Ready" else "True",
                            "lastHeartbeatTime": "2026-11-30T10:00:00Z",
                            "lastTransitionTime": "2026-01-10T08:01:00Z",
                            "reason": f"Kubelet{t}", "message": f"kubelet reports {t}"}
                           for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")],
            "images": [{"names": [f"registry.example/team/image-{i}@sha256:{i:064x}",
                                  f"registry.example/team/image-{i}:v1.{i}"],
                        "sizeBytes": 10_000_000 + i} for i in range(20)],
            "nodeInfo": {"machineID": f"{n:032x}", "systemUUID": f"ec2{n:029x}",
                         "bootID": f"{n:08x}-0000-4000-8000-000000000000",
                         "kernelVersion": "6.8.0-1019-aws", "osImage": "Ubuntu 24.04.1 LTS",
                         "containerRuntimeVersion": "containerd://2.0.5",
                         "kubeletVersion": "v1.32.4", "kubeProxyVersion": "v1.32.4",
                         "operatingSystem": "linux", "architecture": "amd64"}}}


def block(n: int, k: int) -> dict:
    """IPAMBlock k (0 or 1) of node n: 10.<16 + n // 128>.<2 * (n % 128) + k>.0/26."""
    name = f"node-{n:04d}"
    cidr = f"10.{16 + n // 128}.{(n % 128) * 2 + k // 4}.{(k % 4) * BLOCK}/26"
    used = min(BLOCK, PODS_PER_NODE - k * BLOCK)
    return {"apiVersion": f"{CRD}/v1", "kind": "IPAMBlock", "metadata": {
        "name": cidr.replace(".", "-").replace("/", "-"), "resourceVersion": str(n * 2 + k),
        "annotations": {"projectcalico.org/metadata": '{"creationTimestamp":null}'}},
        "spec": {"cidr": cidr, "affinity": f"host:{name}", "strictAffinity": False,
                 "affinityClaimTime": "2026-01-10T09:00:00Z", "deleted": False,
                 "allocations": list(range(used)) + [None] * (BLOCK - used),
                 "unallocated": list(range(used, BLOCK)),
                 "attributes": [{"handle_id": f"k8s-pod-network.{n:04x}{k}{i:03x}",
                                 "secondary": {"namespace": f"team-{(n + i) % 3000}",
                                               "node": name, "pod": f"app-{i}-x7k2p",
                                               "timestamp": "2026-01-10 09:00:01.1 +0000 UTC"}}
                                for i in range(used)]}}


def cluster(nodes: int) -> dict[str, list[dict]]:
    pools = [{"apiVersion": f"{CRD}/v1", "kind": "IPPool", "metadata": {
        "name": f"pool-{i}", "resourceVersion": str(i),
        "labels": {"app.kubernetes.io/managed-by": "calico-ipam", "calico-ipam.io/stack": "big"}},
        "spec": {"cidr": f"10.{16 + i}.0.0/16", "blockSize": 26, "ipipMode": "Always",
                 "natOutgoing": True, "nodeSelector": "all()"}} for i in range(20)]
    blocks = [block(n, k) for n in range(nodes) for k in range(2)]
    affinities = [{"apiVersion": f"{CRD}/v1", "kind": "BlockAffinity", "metadata": {
        "name": f"{b['spec']['affinity'][5:]}-{b['metadata']['name']}",
        "labels": {"projectcalico.org/affinity-type": "host"}},
        "spec": {"cidr": b["spec"]["cidr"], "node": b["spec"]["affinity"][5:],
                 "state": "confirmed", "type": "host", "deleted": "false"}} for b in blocks]
    namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": f"team-{i}", "labels": {"kubernetes.io/metadata.name": f"team-{i}"},
        "annotations": {"cni.projectcalico.org/ipv4pools": json.dumps([f"pool-{i % 20}"])}},
        "status": {"phase": "Active"}} for i in range(3000)]
    config = [{"apiVersion": f"{CRD}/v1", "kind": "IPAMConfig", "metadata": {"name": "default"},
               "spec": {"strictAffinity": False, "autoAllocateBlocks": True}}]
    by_kind = {"IPPool": pools, "IPAMConfig": config, "Namespace": namespaces,
               "Node": [node(n) for n in range(nodes)], "IPReservation": [],
               "BlockAffinity": affinities,
               "IPAMBlock": blocks}
    return {path: by_kind[kind] for path, kind, _ in RESOURCES}


def discovery() -> dict[str, dict]:
    """The legacy discovery documents kubectl reads to resolve resource names."""
    def resources(plurals):
        return [{"name": p, "singularName": "", "namespaced": False, "kind": kind,
                 "verbs": ["get", "list", "watch"]} for p, kind in plurals]
    core = [(plural, kind) for path, kind, plural in RESOURCES if path.startswith("/api/")]
    crd = [(plural, kind) for path, kind, plural in RESOURCES if path.startswith("/apis/")]
    version = {"groupVersion": f"{CRD}/v1", "version": "v1"}
    return {
        "/api": {"kind": "APIVersions", "versions": ["v1"],
                 "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                 "serverAddress": "127.0.0.1"}]},
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": CRD, "versions": [version], "preferredVersion": version}]},
        "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1",
                    "resources": resources(core)},
        f"/apis/{CRD}/v1": {"kind": "APIResourceList", "apiVersion": "v1",
                            "groupVersion": f"{CRD}/v1", "resources": resources(crd)},
        "/version": {"major": "1", "minor": "32", "gitVersion": "v1.32.4"},
    }


class PagedAPI:
    """A list-only API server whose pages are rendered once and then served as bytes."""

    def __init__(self, objects: dict[str, list[dict]]):
        self.objects, self.docs = objects, {p: json.dumps(d).encode() for p, d in discovery().items()}
        self.pages: dict[tuple[str, int, int], bytes] = {}
        self.lock = threading.Lock()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real API server
            # TCP_NODELAY, as a real API server (Go sets it on every TCP
            # connection: net.TCPConn.SetNoDelay, "the default is true").
            # Without it the body written after the headers waits for the
            # client's delayed ACK: 40 ms on every small response.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                code, body = api.answer(self.path)
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, raw: str) -> tuple[int, bytes]:
        parts = urlsplit(raw)
        if parts.path in self.docs:
            return 200, self.docs[parts.path]
        if parts.path not in self.objects:
            return 404, json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                    "reason": "NotFound", "code": 404,
                                    "message": "the server could not find the requested "
                                               "resource"}).encode()
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        items = self.objects[parts.path]
        start = int(query.get("continue") or 0)
        limit = int(query.get("limit") or 0) or len(items) or 1
        key = (parts.path, start, limit)
        with self.lock:
            if key not in self.pages:
                meta = {"resourceVersion": "4242"}
                if start + limit < len(items):
                    meta["continue"] = str(start + limit)
                    meta["remainingItemCount"] = len(items) - start - limit
                kind = items[0]["kind"] + "List" if items else "List"
                self.pages[key] = json.dumps({"apiVersion": "v1", "kind": kind, "metadata": meta,
                                              "items": items[start:start + limit]}).encode()
            return 200, self.pages[key]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_kubeconfig(directory: Path, server: str) -> Path:
    path = directory / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "bench",
        "clusters": [{"name": "bench", "cluster": {"server": server}}],
        "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": "ci"}}],
        "users": [{"name": "ci", "user": {"token": "bench-token"}}]}))
    return path


def run(argv: list[str], out: Path, env: dict) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system, every thread) and peak RSS (MiB)
    of one fresh process writing *out*."""
    with open(out, "wb") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv[:3])}... failed:\n{stderr}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="alternating runs of each client; the fastest of each counts")
    args = parser.parse_args(argv)
    objects = cluster(args.nodes)
    api = PagedAPI(objects)
    kubectl = shutil.which("kubectl")
    try:
        with tempfile.TemporaryDirectory(prefix="calico-ipam-kube-") as tmp:
            directory = Path(tmp)
            kubeconfig = write_kubeconfig(directory, api.url)
            # Bytecode cached as an installed calico-ipam has it (pip compiles
            # at install), in the temporary directory, whatever the caller's
            # PYTHONDONTWRITEBYTECODE says; the warm-up run below writes it.
            env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": tmp, "NO_COLOR": "1",
                   "PYTHONPYCACHEPREFIX": str(directory / "pycache")}
            env.pop("KUBECONFIG", None)
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            ours = [sys.executable, "-P", "-m", "ipam_model", "snapshot", "--kubeconfig",
                    str(kubeconfig), "--output", str(directory / "snapshot.json")]
            theirs = [kubectl, "--kubeconfig", str(kubeconfig), "--cache-dir",
                      str(directory / "kube-cache"), "get", KUBECTL_RESOURCES, "-o", "json",
                      "--chunk-size=500"] if kubectl else None
            total = sum(map(len, objects.values()))
            print(f"fake API {api.url}: {args.nodes:,} nodes, {len(objects[RESOURCES[-1][0]]):,} "
                  f"IPAMBlocks, {total:,} objects in seven lists, pages of 500")
            run(ours, directory / "stdout.txt", env)  # warm the bytecode cache
            if theirs:
                run(theirs, directory / "kubectl.json", env)  # warm kubectl's discovery cache
            snap, kube = [], []
            for _ in range(args.repeat):
                # each client writes a new file: kubectl's is truncated before its
                # clock starts (the redirect), so the last snapshot goes before ours
                (directory / "snapshot.json").unlink()
                snap.append(run(ours, directory / "stdout.txt", env))
                if theirs:
                    kube.append(run(theirs, directory / "kubectl.json", env))
            written = json.loads((directory / "snapshot.json").read_bytes())
            assert len(written["items"]) == total, (len(written["items"]), total)
            if theirs:
                listed = json.loads((directory / "kubectl.json").read_bytes())
                assert len(listed["items"]) == total, (len(listed["items"]), total)
            report(snap, kube, args.repeat)
    finally:
        api.close()
    return 0


Run = tuple[float, float, float]


def report(snap: list[Run], kube: list[Run], repeat: int) -> None:
    """Best wall and CPU time of each client; the CPU ratio is the steadier one
    on a shared machine, where a process also waits for a core."""
    wall, cpu, rss = min(r[0] for r in snap), min(r[1] for r in snap), max(r[2] for r in snap)
    print(f"calico-ipam snapshot, a fresh process     {wall:7.2f} s wall {cpu:7.2f} s CPU   "
          f"peak RSS {rss:6.1f} MiB  (target <= 256 MiB: {'met' if rss <= 256 else 'NOT met'})")
    if not kube:
        print("kubectl is not on PATH: the comparison with kubectl get -o json was skipped")
        return
    k_wall, k_cpu, k_rss = (min(r[0] for r in kube), min(r[1] for r in kube),
                            max(r[2] for r in kube))
    print(f"kubectl get ... -o json --chunk-size=500  {k_wall:7.2f} s wall {k_cpu:7.2f} s CPU   "
          f"peak RSS {k_rss:6.1f} MiB  (best of {repeat} each)")
    ratio = k_wall / wall
    print(f"ratio kubectl / snapshot: {ratio:.1f}x wall (target >= 5x: "
          f"{'met' if ratio >= 5 else 'NOT met'}), {k_cpu / cpu:.1f}x CPU")


if __name__ == "__main__":
    sys.exit(main())
