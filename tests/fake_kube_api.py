"""A fake Kubernetes API on 127.0.0.1 for the cluster reader's tests.

It serves Calico-shaped objects (tests/data/live) with ``limit``/``continue``
paging and scripted faults; a kubeconfig points lightkube at it over plain
http://. Shared by tests/live/kube and the CLI tests that read a cluster
(importable because tests/conftest.py puts tests/ on sys.path).
"""
from __future__ import annotations

import http.server
import json
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from ipam_model.live.kube.kinds import ALL_KINDS
from ipam_model.live.kube.reader import KubeReader

DATA = Path(__file__).parent / "data" / "live"
ROOT = Path(__file__).parent.parent

PATHS = {k.kind if k.group != "projectcalico.org" else "IPPoolV3":
         (f"/apis/{k.group}/{k.version}/{k.plural}" if k.group else f"/api/{k.version}/{k.plural}")
         for k in ALL_KINDS}


def seed_objects(v3: bool) -> dict[str, list[dict]]:
    """Collections by URL path, from the fixture files."""
    by_path: dict[str, list[dict]] = defaultdict(list)
    with open(DATA / "cluster-v1.yaml") as fh:
        for doc in yaml.safe_load_all(fh):
            for item in doc["items"]:
                if item["kind"] in PATHS:
                    by_path[PATHS[item["kind"]]].append(item)
    if v3:
        with open(DATA / "ippools-v3.yaml") as fh:
            by_path[PATHS["IPPoolV3"]] = yaml.safe_load(fh)["items"]
    for kind in ALL_KINDS:  # an installed CRD serves its (maybe empty) list
        if kind.group == "crd.projectcalico.org":
            by_path.setdefault(PATHS[kind.kind], [])
    return dict(by_path)


class FakeKubeAPI:
    """A tiny list-only Kubernetes API. ``faults[(path, n)]`` scripts the n-th
    request (0-based) to that path (``always[path]``: every request):

    - an HTTP status, "timeout" (answer after ``delay``), "truncate",
      "html502"/"bare500" (a proxy's answer);
    - "drip": headers at once, then the body one byte every ``drip`` seconds
      (each byte arrives within the client's per-read timeout);
    - "cycle": continue tokens that repeat (a, b, a, ...);
    - "endless": a fresh continue token on every page, for ever;
    - "echo-auth": HTTP 400 whose message quotes the Authorization header;
    - "long-token": a continue token of 20 KiB;
    - "deep": a page whose item nests 20,000 levels deep.

    Bounded and self-stopping: it listens on 127.0.0.1 only, answers at most
    ``max_requests`` requests (503 after that) and shuts itself down after
    ``lifetime`` seconds, so a test that hangs cannot keep it alive."""

    def __init__(self, objects: dict[str, list[dict]], *, lifetime: float = 120.0,
                 max_requests: int = 20_000):
        self.objects = objects
        self.faults: dict[tuple[str, int], object] = {}
        self.always: dict[str, object] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.headers: list[dict] = []
        self.counts: dict[str, int] = defaultdict(int)
        self.delay = 1.0
        self.drip = 0.05
        self.max_requests = max_requests
        self.closed = threading.Event()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                api.handle(self)

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that timed out and hung up: expected in these tests

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()
        self.stopper = threading.Timer(lifetime, self.close)
        self.stopper.daemon = True
        self.stopper.start()

    def close(self):
        if self.closed.is_set():
            return
        self.closed.set()
        self.stopper.cancel()
        self.server.shutdown()
        self.server.server_close()

    def _drip(self, h, body: bytes):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        for i in range(len(body)):
            if self.closed.is_set():
                return
            h.wfile.write(body[i:i + 1])
            h.wfile.flush()
            time.sleep(self.drip)

    def _page(self, items: list, start: int, limit: int, fault, query: dict) -> dict:
        page = items[start:start + limit]
        meta = {"resourceVersion": "4242"}
        token = query.get("continue", "")
        if fault in ("cycle", "endless") and token:
            page = []  # the later pages: empty, and never the last one
        if fault == "cycle":
            meta["continue"] = "b" if token == "a" else "a"
        elif fault == "endless":
            meta["continue"] = f"page-{int(token.removeprefix('page-') or 0) + 1}"
        elif fault == "long-token":
            meta["continue"] = "x" * (20 * 1024)
        elif start + limit < len(items):
            meta["continue"] = str(start + limit)
            meta["remainingItemCount"] = len(items) - start - limit
        return {"apiVersion": "v1", "kind": "List", "metadata": meta, "items": page}

    @staticmethod
    def _send(h, code: int, body: bytes, length: int | None = None):
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body) if length is None else length))
        h.end_headers()
        h.wfile.write(body)

    def _status(self, h, code: int, reason: str, message: str):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "code": code}
        self._send(h, code, json.dumps(body).encode())

    def handle(self, h):
        parts = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        n = self.counts[path]
        self.counts[path] += 1
        self.requests.append(("GET", path, query))
        self.headers.append(dict(h.headers))
        if len(self.requests) > self.max_requests:
            return self._status(h, 503, "ServiceUnavailable", "request limit of the fake API")
        fault = self.faults.get((path, n), self.always.get(path))
        if fault == "echo-auth":
            return self._status(h, 400, "BadRequest",
                                f"bad request, Authorization: {h.headers.get('Authorization')}")
        if fault == "timeout":
            time.sleep(self.delay)
        elif fault in ("html502", "bare500"):  # a proxy in front of the API server
            body = b"<html>Bad Gateway</html>"
            h.send_response(502 if fault == "html502" else 500)
            if fault == "html502":
                h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        elif isinstance(fault, int):
            reasons = {403: "Forbidden", 404: "NotFound", 410: "Expired", 500: "InternalError",
                       503: "ServiceUnavailable"}
            return self._status(h, fault, reasons.get(fault, "Failure"),
                                f'ippools is forbidden: User "ci" cannot list resource {path}'
                                if fault == 403 else f"fault {fault}")
        if path not in self.objects:
            return self._status(h, 404, "NotFound", "the server could not find the requested resource")
        items = self.objects[path]
        token = query.get("continue", "0") or "0"
        start = int(token) if token.isdigit() else 0
        limit = int(query.get("limit", "0") or 0) or len(items) or 1
        body = json.dumps(self._page(items, start, limit, fault, query)).encode()
        if fault == "truncate":
            body = body[: len(body) // 2]
        if fault == "deep":  # an item nested far deeper than any object
            body = b'{"apiVersion": "v1", "kind": "List", "metadata": {}, "items": [' + \
                b"[" * 20000 + b"]" * 20000 + b"]}"
        if fault == "drip":
            return self._drip(h, body)
        self._send(h, 200, body)


@pytest.fixture
def api():
    server = FakeKubeAPI(seed_objects(v3=False))
    yield server
    server.close()


def write_kubeconfig(tmp_path: Path, server: str, user: dict | None = None,
                     extra_users: dict | None = None) -> Path:
    users = [{"name": "ci", "user": user or {"token": "plain-test-token"}}]
    contexts = [{"name": "lab", "context": {"cluster": "lab", "user": "ci"}}]
    for name, entry in (extra_users or {}).items():
        users.append({"name": name, "user": entry})
        contexts.append({"name": name, "context": {"cluster": "lab", "user": name}})
    conf = {"apiVersion": "v1", "kind": "Config", "current-context": "lab",
            "clusters": [{"name": "lab", "cluster": {"server": server}}],
            "contexts": contexts, "users": users}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(conf))
    return path


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def reader(kubeconfig, sleeps=None, context=None, **kw) -> KubeReader:
    kw.setdefault("page_size", 2)
    kw.setdefault("timeout", 0.4)
    return KubeReader.from_kubeconfig(str(kubeconfig), context,
                                      sleep=sleeps if sleeps is not None else Sleeps(), **kw)


@pytest.fixture(autouse=True)
def no_real_backoff(monkeypatch):
    """The CLI builds its own reader: its back-off must not wait for real either."""
    monkeypatch.setattr("ipam_model.live.kube.reader.DEFAULT_SLEEP", lambda seconds: None)


def list_requests(api: FakeKubeAPI, path: str):
    return [q for (_, p, q) in api.requests if p == path]

