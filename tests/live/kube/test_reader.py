"""The cluster reader over real HTTP against a fake Kubernetes API on 127.0.0.1.

The fake (tests/fake_kube_api.py) serves Calico-shaped objects (tests/data/live)
with ``limit``/``continue`` paging and scripted faults; a kubeconfig points
lightkube at it over plain http://. Every failure must end in one ClusterError
(exit 1 through the CLI) and never in a LiveState or snapshot built from part
of the cluster.
"""
from __future__ import annotations

import base64
import ssl

import httpx2
import pytest
import yaml
from fake_kube_api import (
    DATA,
    PATHS,
    ROOT,
    FakeKubeAPI,
    Sleeps,
    list_requests,
    reader,
    seed_objects,
    write_kubeconfig,
)

from ipam_model import cli
from ipam_model.core.errors import ClusterError
from ipam_model.core.live_state import (
    OWNER_CALICO_IPAM,
    OWNER_OTHER,
    OWNER_TIGERA_OPERATOR,
)
from ipam_model.core.model import API_CRD_V1, API_V3
from ipam_model.live.kube.reader import KubeReader, without_unused_tls


def run_cli(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- success

def test_reads_a_v1_cluster_over_http_in_pages(api, tmp_path):
    state = reader(write_kubeconfig(tmp_path, api.url)).read()
    assert state.calico_api == API_CRD_V1
    assert sorted(state.pools) == ["default-ipv4-ippool", "external-pool", "internal-pool",
                                   "legacy-pool"]
    ext = state.pools["external-pool"]
    assert (ext.owner, ext.owner_stack) == (OWNER_CALICO_IPAM, "dev")
    assert ext.spec.block_size == 29 and ext.spec.ipip_mode == "Always"
    assert "pulumi.com/patchFieldManager" not in ext.annotations
    assert state.pools["default-ipv4-ippool"].owner == OWNER_TIGERA_OPERATOR
    assert state.pools["legacy-pool"].owner == OWNER_OTHER
    assert len(state.namespaces) == 7 and len(state.nodes) == 3 and len(state.blocks) == 4
    assert state.usage["external-pool"].by_namespace == {"external-ns": 3}
    assert state.usage["default-ipv4-ippool"].allocated == 3  # tunnel address included
    assert state.source.startswith("cluster 127.0.0.1:") and "context lab" in state.source
    # 7 namespaces with limit=2 take 4 pages, each following the server's continue token
    pages = list_requests(api, PATHS["Namespace"])
    assert [q.get("continue") for q in pages] == [None, "2", "4", "6"]
    assert all(q["limit"] == "2" for q in pages)
    # the v3 API is not served: the reader asked, then fell back to the CRDs
    assert list_requests(api, PATHS["IPPoolV3"]) and list_requests(api, PATHS["IPPool"])


def test_prefers_projectcalico_v3_when_served(tmp_path):
    server = FakeKubeAPI(seed_objects(v3=True))
    try:
        state = reader(write_kubeconfig(tmp_path, server.url)).read()
        assert state.calico_api == API_V3
        assert not list_requests(server, PATHS["IPPool"])  # v1 pools never read
    finally:
        server.close()
    v1 = reader_state_v1(tmp_path)
    # the same cluster seen through either API normalises to the same pools
    assert dict(state.pools) == dict(v1.pools)


def reader_state_v1(tmp_path):
    server = FakeKubeAPI(seed_objects(v3=False))
    try:
        return reader(write_kubeconfig(tmp_path, server.url)).read()
    finally:
        server.close()


def test_injected_mock_transport_works_without_a_server(tmp_path):
    objects = seed_objects(v3=False)

    def handler(request: httpx2.Request) -> httpx2.Response:
        items = objects.get(request.url.path)
        if items is None:
            return httpx2.Response(404, json={"kind": "Status", "code": 404, "message": "nf"})
        return httpx2.Response(200, json={"kind": "List", "metadata": {}, "items": items})

    kc = write_kubeconfig(tmp_path, "https://cluster.invalid:6443")
    state = KubeReader.from_kubeconfig(str(kc), "lab",
                                       transport=httpx2.MockTransport(handler)).read()
    assert len(state.blocks) == 4 and state.calico_api == API_CRD_V1


def test_no_ca_bundle_is_loaded_for_an_http_server(api, tmp_path, monkeypatch):
    """An http:// server has no TLS: the client is built without reading the
    system's CA bundle (lightkube config/client_adapter.py verify_cluster
    would, for nothing). An https:// server is still verified against it, and
    a cluster entry naming its own CA keeps it."""
    loaded = []
    real = ssl.SSLContext.load_verify_locations
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations",
                        lambda self, *a, **kw: (loaded.append(a or kw), real(self, *a, **kw)))
    plain = reader(write_kubeconfig(tmp_path, api.url))
    assert len(plain.read().blocks) == 4 and loaded == []
    assert without_unused_tls(plain.cluster.config).cluster.insecure
    assert not plain.cluster.config.cluster.insecure  # the reader's own config is unchanged

    secure = reader(write_kubeconfig(tmp_path, "https://127.0.0.1:1"))
    assert without_unused_tls(secure.cluster.config) is secure.cluster.config
    secure._connect().close()
    assert loaded  # the https client verifies against the CA bundle

    kc = write_kubeconfig(tmp_path, api.url)
    doc = yaml.safe_load(kc.read_text())
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(
        b"-----BEGIN CERTIFICATE-----").decode()
    kc.write_text(yaml.safe_dump(doc))
    own_ca = reader(kc, context="lab")
    assert without_unused_tls(own_ca.cluster.config) is own_ca.cluster.config


# --------------------------------------------------------------------------- the operator

def _unlabel_operator_pool(api):
    for pool in api.objects[PATHS["IPPool"]]:
        if pool["metadata"]["name"] == "default-ipv4-ippool":
            pool["metadata"].pop("labels", None)
            pool["metadata"].get("annotations", {}).pop("projectcalico.org/metadata", None)


def test_no_installation_crd_means_no_operator(api, tmp_path):
    """A manifest install (calico.yaml, kubespray) serves no operator.tigera.io
    API: the 404 is an answer, and calico-node's default-ipv4-ippool is not the
    operator's."""
    _unlabel_operator_pool(api)
    state = reader(write_kubeconfig(tmp_path, api.url)).read()
    assert list_requests(api, PATHS["Installation"])  # asked, got 404
    assert state.installations == ()
    pool = state.pools["default-ipv4-ippool"]
    assert (pool.owner, pool.owner_certain) == (OWNER_OTHER, True)


def test_installation_listing_the_pool_cidr_gives_it_to_the_operator(api, tmp_path):
    _unlabel_operator_pool(api)
    api.objects[PATHS["Installation"]] = [{
        "apiVersion": "operator.tigera.io/v1", "kind": "Installation",
        "metadata": {"name": "default"},
        "spec": {"calicoNetwork": {"ipPools": [{"name": "default-ipv4-ippool",
                                                 "cidr": "192.168.0.0/16"}]}}}]
    state = reader(write_kubeconfig(tmp_path, api.url)).read()
    assert state.pools["default-ipv4-ippool"].owner == OWNER_TIGERA_OPERATOR


def test_forbidden_installations_leave_ownership_uncertain_not_failed(api, tmp_path):
    """Read-only RBAC without the operator.tigera.io rule must not break drift
    jobs: the Installations are skipped with a note, unlabelled pools become
    uncertain."""
    _unlabel_operator_pool(api)
    api.always[PATHS["Installation"]] = 403
    state = reader(write_kubeconfig(tmp_path, api.url)).read()
    assert state.installations is None
    assert state.pools["default-ipv4-ippool"].owner_certain is False
    assert any(n.startswith("Installation objects were not read: permission denied")
               for n in state.notes)


def test_snapshot_records_a_skipped_installation_list_as_unknown(api, tmp_path, capsys):
    _unlabel_operator_pool(api)
    api.always[PATHS["Installation"]] = 403
    out = tmp_path / "snap.json"
    code, _, _ = run_cli(["snapshot", "--kubeconfig", str(write_kubeconfig(tmp_path, api.url)),
                          "--output", str(out)], capsys)
    assert code == 0
    import json
    header = json.loads(out.read_text().split("\n", 1)[0] + "\"items\":[]}")
    assert "Installation" not in header["counts"]
    del api.always[PATHS["Installation"]]
    code, _, _ = run_cli(["snapshot", "--kubeconfig", str(write_kubeconfig(tmp_path, api.url)),
                          "--output", str(out)], capsys)
    assert json.loads(out.read_text().split("\n", 1)[0] + "\"items\":[]}")["counts"][
        "Installation"] == 0


# --------------------------------------------------------------------------- failures

def test_403_names_verb_resource_and_rbac_manifest(api, tmp_path):
    api.always[PATHS["IPAMBlock"]] = 403
    with pytest.raises(ClusterError) as err:
        reader(write_kubeconfig(tmp_path, api.url)).read()
    msg = str(err.value)
    assert "ipamblocks.crd.projectcalico.org" in msg and '"list"' in msg
    assert "deploy/rbac-readonly.yaml" in msg


def test_missing_calico_crd_says_calico_is_not_installed(api, tmp_path):
    del api.objects[PATHS["IPAMBlock"]]
    with pytest.raises(ClusterError) as err:
        reader(write_kubeconfig(tmp_path, api.url)).read()
    assert "Calico is not installed with the Kubernetes datastore " \
           "(no ipamblocks.crd.projectcalico.org)" in str(err.value)


def test_no_calico_at_all(tmp_path):
    server = FakeKubeAPI({PATHS["Namespace"]: [], PATHS["Node"]: []})
    try:
        with pytest.raises(ClusterError, match=r"no ippools\.crd\.projectcalico\.org"):
            reader(write_kubeconfig(tmp_path, server.url)).read()
    finally:
        server.close()


def test_410_gone_restarts_the_list_from_scratch(api, tmp_path):
    path = PATHS["IPAMBlock"]
    api.faults[(path, 1)] = 410  # the second page expires
    sleeps = Sleeps()
    state = reader(write_kubeconfig(tmp_path, api.url), sleeps).read()
    assert sorted(b.cidr for b in state.blocks) == sorted(
        ["172.16.0.32/29", "192.169.0.0/29", "192.168.10.64/26", "10.10.0.0/26"])  # no duplicates
    assert [q.get("continue") for q in list_requests(api, path)] == [None, "2", None, "2"]
    assert sleeps == []


def test_410_forever_gives_up(api, tmp_path):
    api.faults.update({(PATHS["IPAMBlock"], n): 410 for n in range(1, 40, 2)})
    with pytest.raises(ClusterError, match="410 Gone"):
        reader(write_kubeconfig(tmp_path, api.url)).read()


def test_500_then_success_backs_off_without_sleeping(api, tmp_path):
    api.faults[(PATHS["Namespace"], 1)] = 500
    api.faults[(PATHS["Namespace"], 2)] = 503
    sleeps = Sleeps()
    state = reader(write_kubeconfig(tmp_path, api.url), sleeps).read()
    assert len(state.namespaces) == 7
    assert sleeps == [0.5, 1.0]  # exponential, through the injected sleep


def test_500_forever_is_bounded(api, tmp_path):
    api.always[PATHS["Node"]] = 500
    sleeps = Sleeps()
    with pytest.raises(ClusterError, match=r"nodes failed 5 times in a row.*HTTP 500"):
        reader(write_kubeconfig(tmp_path, api.url), sleeps).read()
    assert sleeps == [0.5, 1.0, 2.0, 4.0]


@pytest.mark.parametrize("fault", ["html502", "bare500"])
def test_proxy_errors_without_a_kubernetes_status_are_retried(api, tmp_path, fault):
    api.faults[(PATHS["Node"], 0)] = fault
    sleeps = Sleeps()
    assert len(reader(write_kubeconfig(tmp_path, api.url), sleeps).read().nodes) == 3
    assert sleeps == [0.5]


def test_401_is_not_retried(api, tmp_path):
    api.always[PATHS["IPPoolV3"]] = 401
    sleeps = Sleeps()
    with pytest.raises(ClusterError, match=r"rejected the credentials of context lab \(401"):
        reader(write_kubeconfig(tmp_path, api.url), sleeps).read()
    assert sleeps == []


def test_timeout_is_retried(api, tmp_path):
    api.faults[(PATHS["BlockAffinity"], 0)] = "timeout"
    state = reader(write_kubeconfig(tmp_path, api.url), timeout=0.3).read()
    assert len(state.affinities) == 4


def test_timeouts_end_in_one_clear_error(api, tmp_path):
    api.always[PATHS["IPAMConfig"]] = "timeout"
    api.delay = 0.3
    with pytest.raises(ClusterError, match=r"ipamconfigs.*timed out after 0.1s"):
        reader(write_kubeconfig(tmp_path, api.url), timeout=0.1, max_attempts=2).read()


def test_truncated_json_is_an_error(api, tmp_path):
    api.faults[(PATHS["IPAMBlock"], 1)] = "truncate"
    with pytest.raises(ClusterError, match="invalid or truncated response for ipamblocks"):
        reader(write_kubeconfig(tmp_path, api.url)).read()


def test_malformed_cluster_object_names_it(api, tmp_path):
    api.objects[PATHS["IPPool"]][1]["spec"]["cidr"] = "192.169.0.0/33"
    with pytest.raises(ClusterError, match=r"IPPool\.internal-pool\.spec\.cidr: .*not a valid CIDR"):
        reader(write_kubeconfig(tmp_path, api.url)).read()

# --------------------------------------------------------------------------- RBAC

def _rbac_rules():
    docs = list(yaml.safe_load_all((ROOT / "deploy" / "rbac-readonly.yaml").read_text()))
    role = next(d for d in docs if d["kind"] == "ClusterRole")
    binding = next(d for d in docs if d["kind"] == "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    return role["rules"]


def test_rbac_manifest_is_read_only():
    for rule in _rbac_rules():
        assert set(rule["verbs"]) <= {"get", "list"}


@pytest.mark.parametrize("v3", [False, True])
def test_every_request_is_covered_by_the_rbac_manifest(tmp_path, v3):
    seen = []

    class Recording(httpx2.HTTPTransport):
        def handle_request(self, request):
            seen.append((request.method, request.url.path, dict(request.url.params)))
            return super().handle_request(request)

    server = FakeKubeAPI(seed_objects(v3=v3))
    try:
        kc = write_kubeconfig(tmp_path, server.url)
        KubeReader.from_kubeconfig(str(kc), None, transport=Recording(), page_size=2).read()
    finally:
        server.close()
    assert len(seen) > 10
    rules = _rbac_rules()
    for method, path, params in seen:
        parts = path.strip("/").split("/")
        group, rest = ("", parts[2:]) if parts[0] == "api" else (parts[1], parts[3:])
        resource = rest[0]
        verb = {"GET": "list" if len(rest) == 1 else "get"}.get(method, method.lower())
        if params.get("watch") == "true":
            verb = "watch"
        assert any(group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"]
                   for r in rules), f"{method} {path}: {verb} {resource} in {group!r} not granted"


# --------------------------------------------------------------------------- credentials

def _test_pem() -> tuple[str, str]:
    cert = (DATA / "test-client.crt").read_text()
    key = (DATA / "test-client.key").read_text()
    return cert, key


def test_credentials_never_appear_anywhere(api, tmp_path, capsys):
    token = "tok-SEKRIT-4f9a1c7e2b8d"
    password = "pw-SEKRIT-hunter2-93a1"
    exec_secret = "exec-SEKRIT-77c0de"
    cert, key = _test_pem()
    cert_b64 = base64.b64encode(cert.encode()).decode()
    key_b64 = base64.b64encode(key.encode()).decode()
    key_lines = [line for line in key.splitlines() if len(line) >= 16 and "-----" not in line]
    kc = write_kubeconfig(
        tmp_path, api.url,
        user={"token": token, "username": "admin", "password": password,
              "client-certificate-data": cert_b64, "client-key-data": key_b64},
        extra_users={
            "broken-exec": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "sh",
                "args": ["-c", 'echo "cannot log in with $SECRET" >&2; exit 1'],
                "env": [{"name": "SECRET", "value": exec_secret}]}},
            "basic": {"username": "admin", "password": password}})
    planted = [token, password, exec_secret, cert_b64, key_b64, *key_lines]
    outputs = []

    def run(argv):
        code, out, err = run_cli(argv, capsys)
        outputs.extend([out, err])
        return code

    snap = tmp_path / "snap.json"
    assert run(["snapshot", "--kubeconfig", str(kc), "-o", str(snap)]) == 0
    outputs.append(snap.read_text())
    assert run(["snapshot", "--kubeconfig", str(kc), "--context", "basic"]) == 0
    # the exec plugin fails and prints its secret: the message must not carry it
    assert run(["snapshot", "--kubeconfig", str(kc), "--context", "broken-exec"]) == 1
    assert "authentication for context broken-exec failed" in outputs[-1]
    api.always[PATHS["IPAMBlock"]] = 403
    assert run(["snapshot", "--kubeconfig", str(kc), "-o", str(tmp_path / "x.json")]) == 1
    api.always[PATHS["IPAMBlock"]] = 500
    for context in ("lab", "basic", "broken-exec"):
        try:
            reader(kc, context=context, max_attempts=2).read()
        except ClusterError as exc:
            outputs.append(str(exc))
            outputs.append(repr(exc.__cause__) + repr(exc.__context__))
    blob = "\n".join(outputs)
    assert "HTTP 500" in blob
    for secret in planted:
        assert secret not in blob


def test_unreachable_api_server_is_named_in_the_error(tmp_path):
    # "ConnectError listing ippools...: Connection refused" alone does not say
    # which cluster of which kubeconfig context was unreachable.
    kc = write_kubeconfig(tmp_path, "https://127.0.0.1:1")
    with pytest.raises(ClusterError) as err:
        reader(kc, Sleeps(), max_attempts=2).read()
    assert "failed 2 times in a row" in str(err.value)
    assert "127.0.0.1:1" in str(err.value) and "context lab" in str(err.value)
